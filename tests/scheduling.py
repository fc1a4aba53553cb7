"""Test helpers for the scheduler: office hours, booking links and fixed instants."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from scheduler.models import AvailabilityBlock, OfficeHours, ShareLink, ShareLinkKind
from tests.world import Persona, database
from visits.security import new_token, token_hash

ALL_DAY = [(weekday, time(0), time(23, 30)) for weekday in range(7)]


async def add_office_hours(
    client: TestClient,
    caseworker: Persona,
    zone: str = "UTC",
    blocks: list[tuple[int, time, time]] | None = None,
    **values: Any,
) -> None:
    """Office hours made directly in the database (default: every day, all day, UTC)."""
    assert caseworker.user_id is not None
    async with database(client).transaction() as session:
        session.add(
            OfficeHours(
                caseworker_id=caseworker.user_id,
                time_zone=zone,
                slot_minutes=values.pop("slot_minutes", 30),
                min_notice_minutes=values.pop("min_notice_minutes", 0),
                horizon_days=values.pop("horizon_days", 28),
                **values,
            )
        )
        await session.flush()
        for weekday, start, end in ALL_DAY if blocks is None else blocks:
            session.add(
                AvailabilityBlock(
                    caseworker_id=caseworker.user_id,
                    weekday=weekday,
                    start_time=start,
                    end_time=end,
                )
            )


async def add_share_link(
    client: TestClient,
    caseworker: Persona,
    case_id: uuid.UUID | None = None,
    client_id: uuid.UUID | None = None,
) -> tuple[uuid.UUID, str]:
    """A booking link made directly in the database; answers its id and token."""
    token = new_token()
    async with database(client).transaction() as session:
        link = ShareLink(
            token_hash=token_hash(token),
            kind=ShareLinkKind.CASE if case_id else ShareLinkKind.GENERAL,
            caseworker_id=caseworker.user_id,
            case_id=case_id,
            client_id=client_id,
        )
        session.add(link)
    return link.id, token


def days_ahead(days: int, hour: int = 10, minute: int = 0) -> datetime:
    """A whole half hour `days` from today, in UTC."""
    base = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return base + timedelta(days=days, hours=hour, minutes=minute)


async def eventually(check: Any, seconds: float = 20.0) -> Any:
    """Poll `check()` (async) until it returns something truthy; fail after `seconds`."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"still not true after {seconds} s: {check.__name__}")
        await asyncio.sleep(0.05)


async def outbox(client: TestClient, **where: Any) -> list[Any]:
    """Outbox rows matching `where` (column = value)."""
    from sqlalchemy import select

    from scheduler.models import Notification

    async with database(client).transaction() as session:
        query = select(Notification).order_by(Notification.id)
        for name, value in where.items():
            query = query.where(getattr(Notification, name) == value)
        return list(await session.scalars(query))
