"""Finding out who is calling: staff by session cookie, clients and guests by their visit link.

Sessions live in the database (server-side), expire after idle time and an absolute
lifetime, and are stored only as hashes. Failed sign-ins and bad link tokens are throttled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from visits import audit
from visits.access import LinkPrincipal, Principal, StaffPrincipal
from visits.db import Database, utcnow
from visits.errors import InvalidInput, NotSignedIn, TooManyAttempts
from visits.models import AccessToken, StaffSession, StaffUser
from visits.security import Passwords, check_password_strength, new_token, token_hash
from visits.settings import Settings
from visits.throttle import Throttle
from visits.web.keys import PRINCIPAL

logger = logging.getLogger(__name__)

SESSION_COOKIE = "vv_session"
_LAST_SEEN_RESOLUTION = timedelta(seconds=60)  # write last_seen at most once a minute


@dataclass(frozen=True)
class SignedIn:
    principal: StaffPrincipal
    cookie_value: str


def staff_principal(user: StaffUser, csrf_token: str) -> StaffPrincipal:
    return StaffPrincipal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        team_id=user.team_id,
        csrf_token=csrf_token,
    )


class Authenticator:
    """Resolves callers and runs sign-in and sign-out. One per application."""

    def __init__(self, settings: Settings, db: Database, passwords: Passwords) -> None:
        self.settings = settings
        self.db = db
        self.passwords = passwords
        window = timedelta(minutes=settings.sign_in_window_minutes)
        limit = settings.sign_in_max_failures
        self.by_username = Throttle("sign_in_user", limit, window)
        self.by_address = Throttle("sign_in_address", limit * 4, window)
        self.link_guesses = Throttle(
            "link_address",
            limit * 4,
            window,
            "Too many invalid visit links from this address. Please wait and try again.",
        )

    async def principal(self, request: web.Request) -> Principal:
        """Who sent `request` (cached on the request); None for anonymous callers."""
        if PRINCIPAL in request:
            return request[PRINCIPAL]
        principal: Principal = None
        authorization = request.headers.get("Authorization", "")
        if authorization.startswith("Bearer "):
            principal = await self.link_principal(
                authorization.removeprefix("Bearer ").strip(),
                request.remote or "",
                request.headers.get("User-Agent", ""),
            )
        elif cookie := request.cookies.get(SESSION_COOKIE):
            principal = await self._session_principal(cookie)
        request[PRINCIPAL] = principal
        return principal

    async def link_principal(
        self, token: str, source_address: str, user_agent: str = ""
    ) -> LinkPrincipal:
        """The client or guest a visit link admits; throttles addresses that guess links, and
        audits each refused link (a failed sign-in by link)."""
        async with self.db.transaction() as session:
            await self.link_guesses.check(session, source_address)
            link = await session.scalar(
                select(AccessToken).where(AccessToken.token_hash == token_hash(token))
            )
            valid = link is not None and link.revoked_at is None and link.expires_at > utcnow()
            if not valid:
                await self.link_guesses.failed(session, source_address)
                await audit.append(
                    session,
                    audit.Actor("anonymous", "", "", source_address, user_agent),
                    "link.sign_in",
                    "access_token",
                    link.id if link is not None else "",
                    outcome="failure",
                    details={"reason": "unknown" if link is None else "revoked or expired"},
                )
        if not valid or link is None:
            raise NotSignedIn("This visit link is not valid or has expired.")
        return LinkPrincipal(
            token_id=link.id,
            booking_id=link.booking_id,
            role=link.role,
            display_name=link.display_name,
        )

    async def _session_principal(self, cookie: str) -> StaffPrincipal | None:
        now = utcnow()
        idle = timedelta(minutes=self.settings.session_idle_minutes)
        async with self.db.transaction() as session:
            row = await session.execute(
                select(StaffSession, StaffUser)
                .join(StaffUser, StaffUser.id == StaffSession.user_id)
                .where(StaffSession.token_hash == token_hash(cookie))
            )
            found = row.first()
            if found is None:
                return None
            staff_session, user = found
            if (
                not user.active
                or staff_session.expires_at <= now
                or (staff_session.last_seen_at + idle <= now)
            ):
                await session.delete(staff_session)
                return None
            if now - staff_session.last_seen_at >= _LAST_SEEN_RESOLUTION:
                staff_session.last_seen_at = now
            return staff_principal(user, staff_session.csrf_token)

    async def sign_in(self, request: web.Request, username: str, password: str) -> SignedIn:
        """Check the password (throttled by username and address) and open a session."""
        username = username.strip().lower()
        address = request.remote or ""
        agent = request.headers.get("User-Agent", "")[:400]
        refused: TooManyAttempts | NotSignedIn | None = None
        async with self.db.transaction() as session:
            try:
                await self.by_username.check(session, username)
                await self.by_address.check(session, address)
            except TooManyAttempts as error:
                refused = error
            user = await session.scalar(select(StaffUser).where(StaffUser.username == username))
        # The hash is checked outside any transaction: it is slow and needs no lock.
        if refused is None:
            hash_ = user.password_hash if user is not None and user.active else None
            if not await self.passwords.verify(hash_, password):
                refused = NotSignedIn("Wrong username or password.")
        if refused is not None or user is None:
            async with self.db.transaction() as session:
                if isinstance(refused, NotSignedIn):
                    await self.by_username.failed(session, username)
                    await self.by_address.failed(session, address)
                await audit.append(
                    session,
                    audit.Actor("anonymous", username, "", address, agent),
                    "staff.sign_in",
                    "staff_user",
                    username,
                    outcome="throttled" if isinstance(refused, TooManyAttempts) else "failure",
                )
            raise refused or NotSignedIn("Wrong username or password.")

        new_hash = (
            await self.passwords.hash(password)
            if self.passwords.needs_rehash(user.password_hash)
            else None
        )
        cookie, csrf, now = new_token(), new_token(), utcnow()
        async with self.db.transaction() as session:
            await self.by_username.reset(session, username)
            if new_hash is not None:
                await session.execute(
                    update(StaffUser).where(StaffUser.id == user.id).values(password_hash=new_hash)
                )
            session.add(
                StaffSession(
                    token_hash=token_hash(cookie),
                    user_id=user.id,
                    csrf_token=csrf,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + timedelta(hours=self.settings.session_max_hours),
                    source_ip=address,
                    user_agent=agent,
                )
            )
            await audit.append(
                session,
                audit.Actor("staff", str(user.id), user.role.value, address, agent),
                "staff.sign_in",
                "staff_user",
                user.id,
            )
        return SignedIn(staff_principal(user, csrf), cookie)

    async def sign_out(self, request: web.Request) -> None:
        if cookie := request.cookies.get(SESSION_COOKIE):
            async with self.db.transaction() as session:
                await session.execute(
                    delete(StaffSession).where(StaffSession.token_hash == token_hash(cookie))
                )

    def set_cookie(self, response: web.StreamResponse, value: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            value,
            max_age=self.settings.session_max_hours * 3600,
            httponly=True,
            samesite="Lax",
            secure=self.settings.secure_cookies,
            path="/",
        )

    def clear_cookie(self, response: web.StreamResponse) -> None:
        response.del_cookie(SESSION_COOKIE, path="/")


async def set_password(
    session: AsyncSession, passwords: Passwords, user: StaffUser, password: str
) -> None:
    """Give `user` a new password and end all their sessions."""
    if problem := check_password_strength(password):
        raise InvalidInput(problem)
    user.password_hash = await passwords.hash(password)
    user.password_changed_at = utcnow()
    await session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
