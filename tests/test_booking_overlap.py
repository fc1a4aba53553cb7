"""No caseworker is ever booked twice at once: the database refuses it, whoever writes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from tests.world import add_case, add_team, database, staff_persona, tomorrow_at
from visits.models import Booking, BookingStatus, StaffRole


async def test_database_refuses_overlapping_active_bookings(client: TestClient) -> None:
    """Rows written past the API still cannot overlap; adjacent and cancelled visits may."""
    team = await add_team(client, "North")
    worker = await staff_persona(client, "casey", StaffRole.CASEWORKER, team)
    case, person = await add_case(client, worker, "N-1", "Alice Alpha")
    start = tomorrow_at(10)

    def visit(minutes_from: int, minutes_to: int, **values: object) -> Booking:
        return Booking(
            case_id=case.id,
            caseworker_id=worker.user_id,
            client_id=person.id,
            start_at=start + timedelta(minutes=minutes_from),
            end_at=start + timedelta(minutes=minutes_to),
            time_zone="Europe/London",
            **values,
        )

    async with database(client).transaction() as session:
        session.add(visit(0, 30))
    with pytest.raises(IntegrityError, match="ex_bookings_no_overlap"):
        async with database(client).transaction() as session:
            session.add(visit(15, 60))
    async with database(client).transaction() as session:
        session.add(visit(30, 60))  # starts as the first ends
        cancelled = visit(0, 60, status=BookingStatus.CANCELLED)
        session.add(cancelled)
    with pytest.raises(IntegrityError, match="ex_bookings_no_overlap"):
        async with database(client).transaction() as session:
            await session.execute(
                update(Booking)
                .where(Booking.id == cancelled.id)
                .values(status=BookingStatus.SCHEDULED)
            )


async def test_concurrent_overlapping_bookings_of_different_lengths_give_one_visit(
    client: TestClient,
) -> None:
    """50 caseworker bookings of 15-60 minutes that all overlap at once: one wins, 49 get 409."""
    team = await add_team(client, "North")
    worker = await staff_persona(client, "casey", StaffRole.CASEWORKER, team)
    case, person = await add_case(client, worker, "N-1", "Alice Alpha")
    noon = tomorrow_at(12)

    async def attempt(index: int) -> tuple[int, dict[str, str]]:
        length = 15 * (1 + index % 4)
        start = noon - timedelta(minutes=index % length)  # every one contains noon
        response = await worker.call(
            client,
            "POST",
            f"/api/cases/{case.id}/bookings",
            json={
                "client_id": str(person.id),
                "start_at": start.isoformat(),
                "end_at": (start + timedelta(minutes=length)).isoformat(),
                "time_zone": "America/Los_Angeles",
            },
        )
        return response.status, await response.json()

    answers = await asyncio.gather(*(attempt(i) for i in range(50)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * 49
    for status, body in answers:
        if status == 409:
            assert body["error"] == "conflict"
            assert "just taken" in body["message"]
    async with database(client).transaction() as session:
        count = await session.scalar(select(func.count()).select_from(Booking))
    assert count == 1
