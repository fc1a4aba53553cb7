"""Events one package announces and others act on, so the core depends on none of them."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BookingChanged:
    """A booking was created, moved, cancelled or otherwise changed (and committed)."""

    booking_id: uuid.UUID


@dataclass(frozen=True)
class VisitRecorded:
    """A visit ended and its recordings are on the booking (transcription starts here)."""

    booking_id: uuid.UUID


Handler = Callable[[Any], Awaitable[None]]


@dataclass
class Events:
    """Subscribers per event type; one per application."""

    _subscribers: dict[type, list[Handler]] = field(default_factory=dict)

    def subscribe(self, event_type: type, handler: Handler) -> None:
        self._subscribers.setdefault(event_type, []).append(handler)

    async def publish(self, event: object) -> None:
        """Run every subscriber; one failing subscriber does not stop the others."""
        for handler in self._subscribers.get(type(event), []):
            try:
                await handler(event)
            except Exception:
                logger.exception("handler %r failed on %r", handler, event)
