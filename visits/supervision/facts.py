"""Loading what the signals read, for many visits at once (a few queries, not one per visit)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from visits.models import Booking, BookingStatus, Consent, ConsentChoice, NoteStatus, VisitNote
from visits.supervision.models import VisitReview
from visits.supervision.signals import Declined, Thresholds, VisitFacts


async def note_states(
    session: AsyncSession, booking_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, tuple[NoteStatus, Any]]:
    """Each visit's note status and body (not its addenda; the newest if several).

    Columns, not ORM objects: the queue reads thousands of notes and needs only these.
    """
    notes: dict[uuid.UUID, tuple[NoteStatus, Any]] = {}
    ids = list(booking_ids)
    if ids:
        rows = await session.execute(
            select(VisitNote.booking_id, VisitNote.status, VisitNote.body)
            .where(VisitNote.booking_id.in_(ids), VisitNote.addendum_to_id.is_(None))
            .order_by(VisitNote.created_at)
        )
        for booking_id, status, body in rows:
            notes[booking_id] = (status, body)
    return notes


async def note_signatures(
    session: AsyncSession, booking_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[NoteStatus, datetime | None]]:
    """Each visit's note status and signing time, without reading the note bodies."""
    found: dict[uuid.UUID, tuple[NoteStatus, datetime | None]] = {}
    if booking_ids:
        rows = await session.execute(
            select(VisitNote.booking_id, VisitNote.status, VisitNote.signed_at)
            .where(VisitNote.booking_id.in_(booking_ids), VisitNote.addendum_to_id.is_(None))
            .order_by(VisitNote.created_at)
        )
        for booking_id, status, signed_at in rows:
            found[booking_id] = (status, signed_at)
    return found


def risk_indicators(body: Any) -> list[dict[str, object]]:
    """The note body's risk indicators; a body of another shape has none."""
    found = body.get("risk_indicators") if isinstance(body, dict) else None
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


async def declined_consents(
    session: AsyncSession, booking_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[Declined]]:
    declined: dict[uuid.UUID, list[Declined]] = defaultdict(list)
    ids = list(booking_ids)
    if ids:
        for consent in await session.scalars(
            select(Consent)
            .where(Consent.booking_id.in_(ids), Consent.choice == ConsentChoice.DECLINED)
            .order_by(Consent.answered_at)
        ):
            declined[consent.booking_id].append(
                Declined(consent.participant_role, consent.participant_name)
            )
    return declined


async def repeated_no_shows(
    session: AsyncSession, client_ids: Iterable[uuid.UUID], since: datetime
) -> dict[uuid.UUID, int]:
    """For each client's latest no-show since `since`: how many visits they missed since then.

    Keyed by that booking, so a client who keeps missing visits raises one item, not many.
    """
    ids = list(set(client_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(Booking.id, Booking.client_id)
        .where(
            Booking.client_id.in_(ids),
            Booking.status == BookingStatus.NO_SHOW,
            Booking.start_at >= since,
        )
        .order_by(Booking.start_at, Booking.id)
    )
    latest: dict[uuid.UUID, uuid.UUID] = {}
    counts: dict[uuid.UUID, int] = defaultdict(int)
    for booking_id, client_id in rows:
        latest[client_id] = booking_id
        counts[client_id] += 1
    return {booking_id: counts[client_id] for client_id, booking_id in latest.items()}


class BookingLike(Protocol):
    """A Booking, or a row of just the columns the signals read."""

    id: uuid.UUID
    client_id: uuid.UUID
    status: BookingStatus
    end_at: datetime
    started_at: datetime | None
    ended_at: datetime | None


FACT_COLUMNS = (
    Booking.id,
    Booking.client_id,
    Booking.status,
    Booking.end_at,
    Booking.started_at,
    Booking.ended_at,
)


async def visit_facts(
    session: AsyncSession, bookings: Sequence[BookingLike], thresholds: Thresholds, now: datetime
) -> list[VisitFacts]:
    ids = [b.id for b in bookings]
    notes = await note_states(session, ids)
    declined = await declined_consents(session, ids)
    since = now - timedelta(days=thresholds.lookback_days)
    no_shows = await repeated_no_shows(session, (b.client_id for b in bookings), since)
    return [
        VisitFacts(
            booking_id=b.id,
            status=b.status,
            end_at=b.end_at,
            started_at=b.started_at,
            ended_at=b.ended_at,
            note_status=notes[b.id][0] if b.id in notes else None,
            risk_indicators=risk_indicators(notes[b.id][1] if b.id in notes else None),
            declined=declined.get(b.id, []),
            client_no_shows=no_shows.get(b.id, 0),
        )
        for b in bookings
    ]


async def reviewed_keys(
    session: AsyncSession, booking_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, set[str]]:
    """Signal keys some review of each visit has seen."""
    seen: dict[uuid.UUID, set[str]] = defaultdict(set)
    ids = list(booking_ids)
    if ids:
        for review in await session.scalars(
            select(VisitReview).where(VisitReview.booking_id.in_(ids))
        ):
            seen[review.booking_id].update(review.signals or [])
    return seen
