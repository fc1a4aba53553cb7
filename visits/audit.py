"""Appending to the hash-chained audit log.

Each event's hash covers its own fields and the previous event's hash, so changing or
removing any row breaks the chain from that row on. Appends happen inside the caller's
transaction, so an audited change and its event commit or roll back together.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from visits.db import utcnow
from visits.models import AuditEvent

GENESIS_HASH = "0" * 64
# Any constant works: it names the one lock that serializes appends on PostgreSQL.
_CHAIN_LOCK_KEY = 0x56495349


@dataclass(frozen=True)
class Actor:
    """Who did something, and from where."""

    kind: str  # staff, client, system, anonymous
    id: str = ""
    role: str = ""
    source_ip: str = ""
    user_agent: str = ""


SYSTEM = Actor(kind="system", id="server", role="system")


def event_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """The chained hash of one event; `verify` recomputes exactly this."""
    payload = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


def hashed_fields(event: AuditEvent) -> dict[str, Any]:
    at: datetime = event.at
    return {
        "at": at.isoformat(timespec="microseconds"),
        "actor_kind": event.actor_kind,
        "actor_id": event.actor_id,
        "actor_role": event.actor_role,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "outcome": event.outcome,
        "source_ip": event.source_ip,
        "user_agent": event.user_agent,
        "details": event.details,
    }


async def append(
    session: AsyncSession,
    actor: Actor,
    action: str,
    object_type: str = "",
    object_id: object = "",
    *,
    outcome: str = "success",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one event to the chain within the caller's transaction."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})
    # SQLite transactions begin IMMEDIATE (visits.db), so they are serialized already.
    prev_hash = (
        await session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    ) or GENESIS_HASH
    event = AuditEvent(
        at=utcnow(),
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_role=actor.role,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        outcome=outcome,
        source_ip=actor.source_ip,
        user_agent=actor.user_agent[:400],
        details=details or {},
        prev_hash=prev_hash,
    )
    event.hash = event_hash(prev_hash, hashed_fields(event))
    session.add(event)
    await session.flush()
    return event
