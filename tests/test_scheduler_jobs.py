"""Reminders and no-shows are jobs in the database: they fire even after a restart."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.scheduling import add_office_hours, eventually, outbox
from tests.world import add_case, add_team, book, database, staff_persona
from visits.models import Booking, BookingStatus, StaffRole

QUICK = {"reminder_minutes": [15], "outbox_poll_seconds": 0.1}


async def test_a_pending_reminder_fires_after_the_app_restarts(service) -> None:  # type: ignore[no-untyped-def]
    """A reminder due two seconds after the app stops is sent by the next app on that data."""
    first = await service(**QUICK)
    team = await add_team(first, "North")
    worker = await staff_persona(first, "casey", StaffRole.CASEWORKER, team)
    await add_office_hours(first, worker)
    case, person = await add_case(first, worker, "N-1", "Alice Alpha")
    start = datetime.now(UTC) + timedelta(minutes=15, seconds=2)
    booking = await book(first, worker, case, person, start)
    await first.close()

    second = await service(**QUICK)

    async def reminded() -> list:
        return await outbox(second, kind="reminder", status="sent")

    (reminder,) = await eventually(reminded)
    assert str(reminder.booking_id) == booking["booking"]["id"]
    assert reminder.recipient == "+1 555 0100"
    assert reminder.channel == "log"


async def test_a_client_who_never_joins_is_marked_no_show(service) -> None:  # type: ignore[no-untyped-def]
    """Once the no-show delay after the start has passed without the client, the record says so."""
    client = await service(**QUICK, no_show_minutes=1)
    team = await add_team(client, "North")
    worker = await staff_persona(client, "casey", StaffRole.CASEWORKER, team)
    case, person = await add_case(client, worker, "N-1", "Alice Alpha")
    start = datetime.now(UTC) - timedelta(seconds=58)
    booking = await book(client, worker, case, person, start)

    async def no_show() -> bool:
        async with database(client).transaction() as session:
            status = await session.scalar(
                select(Booking.status).where(Booking.id == uuid.UUID(booking["booking"]["id"]))
            )
        return status is BookingStatus.NO_SHOW

    assert await eventually(no_show)
