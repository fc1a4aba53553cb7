"""Counting failed attempts (sign-in, kiosk PIN, link token) per key within a time window.

Counts live in the database so every process of a deployment sees the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from visits.db import utcnow
from visits.errors import TooManyAttempts
from visits.models import ThrottleHit


@dataclass(frozen=True)
class Throttle:
    """At most `limit` failures per key within `window`; then refuse until the oldest expires."""

    scope: str
    limit: int
    window: timedelta
    message: str = "Too many failed attempts. Please wait and try again."

    async def check(self, session: AsyncSession, key: str, now: datetime | None = None) -> None:
        """Raise TooManyAttempts when `key` has used up its failures."""
        now = now or utcnow()
        since = now - self.window
        count, oldest = (
            await session.execute(
                select(func.count(), func.min(ThrottleHit.at)).where(
                    ThrottleHit.scope == self.scope,
                    ThrottleHit.key == key,
                    ThrottleHit.at > since,
                )
            )
        ).one()
        if count >= self.limit:
            retry_after = max(1, int((oldest + self.window - now).total_seconds()) + 1)
            raise TooManyAttempts(self.message, retry_after=retry_after)

    async def failed(self, session: AsyncSession, key: str, now: datetime | None = None) -> None:
        session.add(ThrottleHit(scope=self.scope, key=key, at=now or utcnow()))

    async def reset(self, session: AsyncSession, key: str) -> None:
        await session.execute(
            delete(ThrottleHit).where(ThrottleHit.scope == self.scope, ThrottleHit.key == key)
        )
