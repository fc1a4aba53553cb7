"""What the outbox sent about a case's visits: confirmations, reminders, changes."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select

from scheduler.models import Notification
from visits import audit
from visits.access import Audience, case_for
from visits.models import Booking
from visits.web.api import Api, Call


class MessageOut(BaseModel):
    """A message about a visit; its text stays in the outbox (it may carry a join link)."""

    booking_id: uuid.UUID | None
    audience: str
    kind: str
    channel: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None


async def case_messages(call: Call[None, None]) -> list[MessageOut]:
    async with call.db.transaction() as session:
        case = await case_for(session, call.principal, call.ids["case_id"])
        rows = await session.scalars(
            select(Notification)
            .where(
                Notification.booking_id.in_(select(Booking.id).where(Booking.case_id == case.id))
            )
            .order_by(Notification.created_at.desc())
        )
        messages = [
            MessageOut(
                booking_id=n.booking_id,
                audience=n.audience,
                kind=n.kind,
                channel=n.channel.value,
                status=n.status.value,
                attempts=n.attempts,
                created_at=n.created_at,
                sent_at=n.sent_at,
            )
            for n in rows
        ]
        await audit.append(session, call.actor, "message.list", "case", case.id)
    return messages


def register(api: Api) -> None:
    api.route(
        "GET",
        "/api/cases/{case_id}/messages",
        summary="Confirmations, reminders and change notices sent about a case's visits",
        audience=Audience.CASE_STAFF,
        response=list[MessageOut],
        tag="scheduling",
    )(case_messages)
