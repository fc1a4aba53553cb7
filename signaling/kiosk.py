"""Joining at a shared kiosk with a short visit code and a PIN instead of a link.

The code names the booking; the 6-digit PIN is the secret (argon2-hashed). Each wrong PIN
counts against the code, and past the limit the code is locked until staff issue a new one;
addresses that guess are throttled as well. A kiosk sign-in yields a short-lived link that
is revoked when the visit ends, so the kiosk can never return to a finished visit.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from signaling.models import KioskCode
from visits import audit
from visits.bookings import IssuedLink, issue_link
from visits.db import Database, utcnow
from visits.errors import Forbidden, Gone, NotSignedIn
from visits.models import AccessToken, Booking, BookingStatus, Client, ParticipantRole
from visits.security import Passwords
from visits.throttle import Throttle

CODE_DIGITS = 6
PIN_DIGITS = 6
CODE_VALID_AFTER_VISIT = timedelta(hours=1)


@dataclass(frozen=True)
class IssuedCode:
    code: str
    pin: str
    expires_at: datetime


def _digits(count: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(count))


async def issue_code(session: AsyncSession, passwords: Passwords, booking: Booking) -> IssuedCode:
    """A new code and PIN for `booking`, replacing any earlier (or locked) one."""
    if booking.status not in (BookingStatus.SCHEDULED, BookingStatus.IN_PROGRESS):
        raise Gone(f"The visit is {booking.status.value}; it cannot be joined any more.")
    await session.execute(delete(KioskCode).where(KioskCode.booking_id == booking.id))
    now = utcnow()
    await session.execute(delete(KioskCode).where(KioskCode.expires_at <= now))
    taken = set((await session.scalars(select(KioskCode.code))).all())
    code = _digits(CODE_DIGITS)
    while code in taken:
        code = _digits(CODE_DIGITS)
    pin = _digits(PIN_DIGITS)
    expires_at = booking.end_at + CODE_VALID_AFTER_VISIT
    session.add(
        KioskCode(
            booking_id=booking.id,
            code=code,
            pin_hash=await passwords.hash(pin),
            expires_at=expires_at,
        )
    )
    return IssuedCode(code, pin, expires_at)


async def sign_in(
    db: Database,
    passwords: Passwords,
    throttle: Throttle,
    max_failures: int,
    code: str,
    pin: str,
    actor: audit.Actor,
) -> tuple[IssuedLink, str]:
    """Exchange code + PIN for a short-lived kiosk link; returns the link and the client's
    preferred language. Every attempt, failed or not, is audited."""
    address = actor.source_ip
    async with db.transaction() as session:
        await throttle.check(session, address)
        kiosk_code = await session.scalar(select(KioskCode).where(KioskCode.code == code))
    valid = kiosk_code is not None and kiosk_code.expires_at > utcnow()
    locked = valid and kiosk_code is not None and kiosk_code.failures >= max_failures
    right = (
        valid
        and not locked
        and kiosk_code is not None
        and await passwords.verify(kiosk_code.pin_hash, pin)
    )
    if not right or kiosk_code is None:
        async with db.transaction() as session:
            await throttle.failed(session, address)
            if valid and kiosk_code is not None and not locked:
                await session.execute(
                    update(KioskCode)
                    .where(KioskCode.id == kiosk_code.id)
                    .values(failures=KioskCode.failures + 1)
                )
            await audit.append(
                session,
                actor,
                "kiosk.sign_in",
                "booking" if kiosk_code is not None else "kiosk_code",
                kiosk_code.booking_id if kiosk_code is not None else code,
                outcome="failure",
                details={"reason": "locked" if locked else "wrong code or PIN"},
            )
        if locked:
            raise Forbidden(
                "This visit code is locked after too many wrong PINs. "
                "Please ask your caseworker for a new code."
            )
        raise NotSignedIn("That visit code and PIN do not match a visit. Please check them.")
    async with db.transaction() as session:
        booking = await session.get(Booking, kiosk_code.booking_id)
        if booking is None or booking.status not in (
            BookingStatus.SCHEDULED,
            BookingStatus.IN_PROGRESS,
        ):
            raise Gone("This visit has ended.")
        client = await session.get(Client, booking.client_id)
        assert client is not None
        await session.execute(
            update(KioskCode).where(KioskCode.id == kiosk_code.id).values(failures=0)
        )
        issued = await issue_link(
            session, booking, ParticipantRole.CLIENT, client.full_name, 0, kiosk=True
        )
        await audit.append(
            session,
            actor,
            "kiosk.sign_in",
            "booking",
            booking.id,
            details={"link_id": str(issued.link.id)},
        )
        return issued, client.preferred_language


async def revoke_kiosk_links(session: AsyncSession, booking_id: uuid.UUID) -> None:
    """After a visit, nothing a kiosk held can reach it again. (The code itself stays: it
    admits nobody once the visit is over, and a client who left the lobby may come back.)"""
    await session.execute(
        update(AccessToken)
        .where(
            AccessToken.booking_id == booking_id,
            AccessToken.kiosk.is_(True),
            AccessToken.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
