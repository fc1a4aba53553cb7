"""Legal holds: while one is active on a case or a visit, retention deletes nothing of it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator
from sqlalchemy import select

from visits import audit
from visits.access import (
    Audience,
    booking_for,
    case_for,
    hold_for,
    hold_scope,
    may_manage_holds,
)
from visits.db import utcnow
from visits.errors import Conflict
from visits.models import LegalHold
from visits.web.api import Api, Call
from visits.web.schemas import Out

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class HoldIn(BaseModel):
    """Exactly one of case_id and booking_id."""

    model_config = ConfigDict(extra="forbid")

    case_id: uuid.UUID | None = None
    booking_id: uuid.UUID | None = None
    reason: Reason

    @model_validator(mode="after")
    def _one_target(self) -> HoldIn:
        if (self.case_id is None) == (self.booking_id is None):
            raise ValueError("give exactly one of case_id and booking_id")
        return self


class HoldOut(Out):
    id: uuid.UUID
    case_id: uuid.UUID | None
    booking_id: uuid.UUID | None
    reason: str
    placed_by_id: uuid.UUID
    placed_at: datetime
    released_by_id: uuid.UUID | None
    released_at: datetime | None


class HoldQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: bool = True


async def place_hold(call: Call[HoldIn, None]) -> HoldOut:
    staff = may_manage_holds(call.principal)
    async with call.db.transaction() as session:
        if call.body.case_id is not None:
            case = await case_for(session, staff, call.body.case_id)
            target = ("case", case.id)
        else:
            assert call.body.booking_id is not None
            booking = await booking_for(session, staff, call.body.booking_id)
            target = ("booking", booking.id)
        hold = LegalHold(
            case_id=target[1] if target[0] == "case" else None,
            booking_id=target[1] if target[0] == "booking" else None,
            reason=call.body.reason,
            placed_by_id=staff.user_id,
            placed_at=utcnow(),
        )
        session.add(hold)
        await session.flush()
        await audit.append(
            session,
            call.actor,
            "legal_hold.place",
            target[0],
            target[1],
            details={"hold_id": str(hold.id), "reason": call.body.reason},
        )
        return HoldOut.model_validate(hold)


async def list_holds(call: Call[None, HoldQuery]) -> list[HoldOut]:
    async with call.db.transaction() as session:
        query = select(LegalHold).where(hold_scope(call.principal))
        if call.query.active:
            query = query.where(LegalHold.released_at.is_(None))
        holds = list(await session.scalars(query.order_by(LegalHold.placed_at.desc())))
        return [HoldOut.model_validate(hold) for hold in holds]


async def release_hold(call: Call[None, None]) -> HoldOut:
    staff = may_manage_holds(call.principal)
    async with call.db.transaction() as session:
        hold = await hold_for(session, staff, call.ids["hold_id"])
        if hold.released_at is not None:
            raise Conflict(f"The legal hold {hold.id} was released already.")
        hold.released_at = utcnow()
        hold.released_by_id = staff.user_id
        target = ("case", hold.case_id) if hold.case_id else ("booking", hold.booking_id)
        await audit.append(
            session,
            call.actor,
            "legal_hold.release",
            target[0],
            target[1],
            details={"hold_id": str(hold.id)},
        )
        return HoldOut.model_validate(hold)


def register(api: Api) -> None:
    route = api.route
    route(
        "POST",
        "/api/legal-holds",
        summary="Place a legal hold on a case or a visit (supervisors): retention keeps it all",
        audience=Audience.CASE_STAFF,
        body=HoldIn,
        response=HoldOut,
        status=201,
        tag="retention",
    )(place_hold)
    route(
        "GET",
        "/api/legal-holds",
        summary="Legal holds on the cases and visits I may see (active ones unless active=false)",
        audience=Audience.CASE_STAFF,
        query=HoldQuery,
        response=list[HoldOut],
        tag="retention",
    )(list_holds)
    route(
        "POST",
        "/api/legal-holds/{hold_id}/release",
        summary="Release a legal hold (supervisors); retention may then delete what expired",
        audience=Audience.CASE_STAFF,
        response=HoldOut,
        tag="retention",
        errors=(409,),
    )(release_hold)
