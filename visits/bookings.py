"""Creating bookings and the join links that admit people to them.

The scheduler and the live-visit code create bookings only through these functions, so every
booking gets the same checks and its client link.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from visits.db import utcnow
from visits.errors import InvalidInput, NotFound
from visits.models import (
    AccessToken,
    Booking,
    BookingKind,
    Case,
    ParticipantRole,
    case_clients,
)
from visits.security import new_token, token_hash

MAX_VISIT_LENGTH = timedelta(hours=8)


@dataclass(frozen=True)
class IssuedLink:
    """A join link's secret, shown once: only its hash is stored."""

    token: str
    link: AccessToken

    def path(self) -> str:
        return f"/join/{self.token}"


def check_time_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"{name!r} is not an IANA time zone such as America/Chicago.") from None


def check_visit_times(start_at: datetime, end_at: datetime) -> None:
    if end_at <= start_at:
        raise InvalidInput("end_at must be after start_at.")
    if end_at - start_at > MAX_VISIT_LENGTH:
        raise InvalidInput("A visit may last at most 8 hours.")


async def check_client_of_case(session: AsyncSession, case: Case, client_id: uuid.UUID) -> None:
    found = await session.scalar(
        select(case_clients.c.client_id).where(
            case_clients.c.case_id == case.id, case_clients.c.client_id == client_id
        )
    )
    if found is None:
        raise NotFound(f"Client {client_id} is not on case {case.case_number}.")


async def issue_link(
    session: AsyncSession,
    booking: Booking,
    role: ParticipantRole,
    display_name: str,
    valid_days_after_visit: int,
) -> IssuedLink:
    """A new join link for `booking`; a new client link revokes the previous one."""
    now = utcnow()
    if role is ParticipantRole.CLIENT:
        await session.execute(
            update(AccessToken)
            .where(
                AccessToken.booking_id == booking.id,
                AccessToken.role == ParticipantRole.CLIENT,
                AccessToken.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
    token = new_token()
    link = AccessToken(
        token_hash=token_hash(token),
        booking_id=booking.id,
        role=role,
        display_name=display_name,
        created_at=now,
        expires_at=booking.end_at + timedelta(days=valid_days_after_visit),
    )
    session.add(link)
    await session.flush()
    return IssuedLink(token, link)


async def create_booking(
    session: AsyncSession,
    *,
    case: Case,
    client_id: uuid.UUID,
    start_at: datetime,
    end_at: datetime,
    time_zone: str,
    purpose: str,
    kind: BookingKind,
    created_by_id: uuid.UUID | None,
    client_display_name: str,
    link_valid_days: int,
) -> tuple[Booking, IssuedLink]:
    """Book a visit of `case`'s caseworker with one of its clients, and issue the client link."""
    check_time_zone(time_zone)
    check_visit_times(start_at, end_at)
    await check_client_of_case(session, case, client_id)
    booking = Booking(
        case_id=case.id,
        caseworker_id=case.caseworker_id,
        client_id=client_id,
        start_at=start_at,
        end_at=end_at,
        time_zone=time_zone,
        purpose=purpose,
        kind=kind,
        created_by_id=created_by_id,
    )
    session.add(booking)
    await session.flush()
    link = await issue_link(
        session, booking, ParticipantRole.CLIENT, client_display_name, link_valid_days
    )
    return booking, link
