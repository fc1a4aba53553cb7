"""A caseworker's open slots, read from the database: their rules minus their active visits."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.models import AvailabilityBlock, DateOff, OfficeHours
from scheduler.slots import Block, Rules, Slot, free_slots
from visits.bookings import TIME_TAKEN
from visits.db import utcnow
from visits.errors import Conflict, NotFound
from visits.models import Booking, BookingStatus

ACTIVE = (BookingStatus.SCHEDULED, BookingStatus.IN_PROGRESS)


async def load_rules(session: AsyncSession, caseworker_id: uuid.UUID) -> tuple[OfficeHours, Rules]:
    office = await session.get(OfficeHours, caseworker_id)
    if office is None:
        raise NotFound("This caseworker has not published office hours yet.")
    blocks = await session.scalars(
        select(AvailabilityBlock).where(AvailabilityBlock.caseworker_id == caseworker_id)
    )
    days_off = await session.scalars(select(DateOff).where(DateOff.caseworker_id == caseworker_id))
    return office, Rules(
        zone=ZoneInfo(office.time_zone),
        blocks=[Block(b.weekday, b.start_time, b.end_time) for b in blocks],
        slot=timedelta(minutes=office.slot_minutes),
        buffer=timedelta(minutes=office.buffer_minutes),
        daily_cap=office.daily_cap,
        min_notice=timedelta(minutes=office.min_notice_minutes),
        horizon=timedelta(days=office.horizon_days),
        dates_off=[(d.first_day, d.last_day) for d in days_off],
    )


async def busy_times(
    session: AsyncSession,
    caseworker_id: uuid.UUID,
    start: datetime,
    end: datetime,
    exclude: uuid.UUID | None = None,
) -> list[tuple[datetime, datetime]]:
    """The caseworker's active visits that touch start..end (UTC)."""
    query = select(Booking.start_at, Booking.end_at).where(
        Booking.caseworker_id == caseworker_id,
        Booking.status.in_(ACTIVE),
        Booking.start_at < end,
        Booking.end_at > start,
    )
    if exclude is not None:
        query = query.where(Booking.id != exclude)
    return [(row.start_at, row.end_at) for row in await session.execute(query)]


async def open_slots(
    session: AsyncSession,
    caseworker_id: uuid.UUID,
    *,
    now: datetime | None = None,
    exclude: uuid.UUID | None = None,
    window: tuple[datetime, datetime] | None = None,
) -> tuple[OfficeHours, Rules, list[Slot]]:
    """Every slot the caseworker offers from now to their horizon (or within `window`), minus
    their visits. `exclude` leaves one booking out (the one being moved)."""
    now = now or utcnow()
    office, rules = await load_rules(session, caseworker_id)
    start, end = window or (now, now + rules.horizon)
    # A daily cap counts whole local days, so read a day more on either side.
    busy = await busy_times(
        session, caseworker_id, start - timedelta(days=2), end + timedelta(days=2), exclude
    )
    return office, rules, free_slots(rules, busy, now, start, end)


async def lock_caseworker(session: AsyncSession, caseworker_id: uuid.UUID) -> None:
    """Serialize self-service bookings of one caseworker until the transaction ends, so the
    daily cap is counted right. (Overlap needs no lock: the database refuses it anyway.)
    SQLite transactions are serialized already (BEGIN IMMEDIATE)."""
    if session.bind.dialect.name == "postgresql":
        key = int.from_bytes(caseworker_id.bytes[:8], "big", signed=True)
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def take_open_slot(
    session: AsyncSession,
    caseworker_id: uuid.UUID,
    start_at: datetime,
    exclude: uuid.UUID | None = None,
) -> tuple[OfficeHours, Slot]:
    """The open slot starting at `start_at`, or a Conflict saying it is no longer free."""
    await lock_caseworker(session, caseworker_id)
    window = (start_at, start_at + timedelta(seconds=1))  # only the day that matters
    office, _, slots = await open_slots(session, caseworker_id, exclude=exclude, window=window)
    for slot in slots:
        if slot.start == start_at:
            return office, slot
    raise Conflict(TIME_TAKEN)
