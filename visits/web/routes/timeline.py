"""A case's timeline: every visit, past and upcoming, with what it left on the record."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select

from visits import audit
from visits.access import Audience, case_for
from visits.models import Booking, Client, Recording, Transcript, VisitNote
from visits.web.api import Api, Call
from visits.web.schemas import BookingOut


class RecordingItem(BaseModel):
    id: uuid.UUID
    kind: str
    participant_role: str
    participant_name: str
    duration_seconds: float | None
    status: str


class NoteItem(BaseModel):
    id: uuid.UUID
    status: str
    signed_at: datetime | None
    addenda: int


class TimelineVisit(BaseModel):
    booking: BookingOut
    client_name: str
    recordings: list[RecordingItem]
    transcript_status: str | None  # queued, running, done, failed; None: not transcribed
    note: NoteItem | None


async def case_timeline(call: Call[None, None]) -> list[TimelineVisit]:
    async with call.db.transaction() as session:
        case = await case_for(session, call.principal, call.ids["case_id"])
        rows = (
            await session.execute(
                select(Booking, Client.full_name)
                .join(Client, Client.id == Booking.client_id)
                .where(Booking.case_id == case.id)
                .order_by(Booking.start_at.desc())
            )
        ).all()
        ids = [booking.id for booking, _ in rows]
        recordings = list(
            await session.scalars(select(Recording).where(Recording.booking_id.in_(ids)))
        )
        transcripts = {
            t.booking_id: t.status
            for t in await session.scalars(
                select(Transcript)
                .where(Transcript.booking_id.in_(ids))
                .order_by(Transcript.created_at)
            )
        }
        notes = list(await session.scalars(select(VisitNote).where(VisitNote.booking_id.in_(ids))))
        await audit.append(session, call.actor, "case.timeline", "case", case.id)
    by_booking: dict[uuid.UUID, list[RecordingItem]] = {}
    for r in recordings:
        by_booking.setdefault(r.booking_id, []).append(
            RecordingItem(
                id=r.id,
                kind=r.kind,
                participant_role=r.participant_role,
                participant_name=r.participant_name,
                duration_seconds=r.duration_seconds,
                status=r.status.value,
            )
        )
    main = {n.booking_id: n for n in notes if n.addendum_to_id is None}
    addenda: dict[uuid.UUID, int] = {}
    for n in notes:
        if n.addendum_to_id is not None:
            addenda[n.addendum_to_id] = addenda.get(n.addendum_to_id, 0) + 1
    return [
        TimelineVisit(
            booking=BookingOut.model_validate(booking),
            client_name=client_name,
            recordings=by_booking.get(booking.id, []),
            transcript_status=transcripts.get(booking.id),
            note=(
                NoteItem(
                    id=note.id,
                    status=note.status.value,
                    signed_at=note.signed_at,
                    addenda=addenda.get(note.id, 0),
                )
                if (note := main.get(booking.id)) is not None
                else None
            ),
        )
        for booking, client_name in rows
    ]


def register(api: Api) -> None:
    api.route(
        "GET",
        "/api/cases/{case_id}/timeline",
        summary="A case's visits, newest first, with recordings, transcript and note state",
        audience=Audience.CASE_STAFF,
        response=list[TimelineVisit],
        tag="cases",
    )(case_timeline)
