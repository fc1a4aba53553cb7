"""Creating, moving and cancelling bookings, and the join links that admit people to them.

The scheduler and the live-visit code change bookings only through these functions, so every
booking gets the same checks and its client link. No two active (scheduled or in-progress)
bookings of one caseworker overlap: the database refuses it (an exclusion constraint on
PostgreSQL, triggers on SQLite, migration 0002), and `flush_or_conflict` turns that refusal
into a 409 for whoever lost the race.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from visits.db import utcnow
from visits.errors import Conflict, InvalidInput, NotFound
from visits.models import (
    AccessToken,
    Booking,
    BookingKind,
    BookingStatus,
    Case,
    ParticipantRole,
    case_clients,
)
from visits.security import new_token, token_hash

MAX_VISIT_LENGTH = timedelta(hours=8)
# Named by migration 0002 on both engines: the PostgreSQL exclusion constraint and the message
# the SQLite triggers raise.
OVERLAP_CONSTRAINT = "ex_bookings_no_overlap"
TIME_TAKEN = (
    "That time was just taken: the caseworker already has a visit then. Please pick another time."
)
KIOSK_LINK_LIFETIME = timedelta(hours=1)


@dataclass(frozen=True)
class IssuedLink:
    """A join link's secret, shown once: only its hash is stored."""

    token: str
    link: AccessToken

    def path(self) -> str:
        return f"/v/{self.token}"


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


async def flush_or_conflict(session: AsyncSession) -> None:
    """Write pending changes; a booking overlapping another of its caseworker is a Conflict."""
    try:
        await session.flush()
    except IntegrityError as error:
        if OVERLAP_CONSTRAINT in str(error.orig):
            raise Conflict(TIME_TAKEN) from None
        raise


async def issue_link(
    session: AsyncSession,
    booking: Booking,
    role: ParticipantRole,
    display_name: str,
    valid_days_after_visit: int,
    *,
    revoke_previous: bool = True,
    kiosk: bool = False,
) -> IssuedLink:
    """A new join link for `booking`; a new client link revokes the previous one.

    Messages sent to the client later (reminders) carry a link of their own, issued with
    `revoke_previous=False`, so the link the client already has keeps working. Kiosk links
    are short-lived, revoke nothing, and are revoked themselves when the visit ends.
    """
    now = utcnow()
    if role is ParticipantRole.CLIENT and revoke_previous and not kiosk:
        await session.execute(
            update(AccessToken)
            .where(
                AccessToken.booking_id == booking.id,
                AccessToken.role == ParticipantRole.CLIENT,
                AccessToken.kiosk.is_(False),
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
        kiosk=kiosk,
        created_at=now,
        expires_at=(
            max(now, booking.end_at) + KIOSK_LINK_LIFETIME
            if kiosk
            else booking.end_at + timedelta(days=valid_days_after_visit)
        ),
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
    await flush_or_conflict(session)
    link = await issue_link(
        session, booking, ParticipantRole.CLIENT, client_display_name, link_valid_days
    )
    return booking, link


def check_changeable(booking: Booking) -> None:
    """Only a visit that has not started yet can be moved or cancelled."""
    if booking.status is not BookingStatus.SCHEDULED:
        raise Conflict(f"This visit is {booking.status.value.replace('_', ' ')}; it cannot change.")


async def move_booking(
    session: AsyncSession,
    booking: Booking,
    *,
    start_at: datetime,
    end_at: datetime,
    link_valid_days: int,
) -> None:
    """Move a visit to new times. Its links stay valid (their expiry follows the visit) and its
    SEQUENCE rises, so calendars replace the old invite."""
    check_changeable(booking)
    check_visit_times(start_at, end_at)
    booking.start_at = start_at
    booking.end_at = end_at
    booking.sequence += 1
    await flush_or_conflict(session)
    await session.execute(
        update(AccessToken)
        .where(AccessToken.booking_id == booking.id, AccessToken.revoked_at.is_(None))
        .values(expires_at=end_at + timedelta(days=link_valid_days))
    )


async def cancel_booking(session: AsyncSession, booking: Booking) -> None:
    """Cancel a visit that has not started. Links stay valid so the client can see it."""
    check_changeable(booking)
    booking.status = BookingStatus.CANCELLED
    booking.sequence += 1
    await session.flush()
