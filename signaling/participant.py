"""One person in a live visit: their WebSocket, peer connection and media."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpSender

from visits.db import utcnow

logger = logging.getLogger(__name__)

STAFF_ROLES = ("caseworker", "supervisor")

Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class Slot:
    """A pair of send-only transceivers in one participant's connection that carry the
    audio and video of one other participant (so no renegotiation is needed when people
    come and go: the server only swaps the tracks)."""

    audio: RTCRtpSender | None
    video: RTCRtpSender | None
    audio_mid: str | None
    video_mid: str | None
    carrying: str | None = None  # the participant id whose media this slot carries
    feeds: list[MediaStreamTrack] = field(default_factory=list)  # relay proxies to stop


@dataclass
class Participant:
    role: str
    name: str
    language: str
    send: Send
    close: Callable[[], Awaitable[object]]
    staff_user_id: uuid.UUID | None = None
    link_id: uuid.UUID | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    admitted: bool = False
    consent: str | None = None  # accepted / declined, once answered
    audio_on: bool = True
    video_on: bool = True
    joined_at: datetime = field(default_factory=utcnow)
    pc: RTCPeerConnection | None = None
    inbound: dict[str, MediaStreamTrack] = field(default_factory=dict)
    slots: list[Slot] = field(default_factory=list)
    gone: bool = False

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def public(self) -> dict[str, Any]:
        """What others may know about this participant."""
        return {
            "participant_id": self.id,
            "role": self.role,
            "name": self.name,
            "admitted": self.admitted,
            "consent": self.consent,
            "audio": self.audio_on and "audio" in self.inbound,
            "video": self.video_on and "video" in self.inbound,
        }

    def slot_for(self, other_id: str) -> Slot | None:
        return next((slot for slot in self.slots if slot.carrying == other_id), None)

    def free_slot(self) -> Slot | None:
        return next((slot for slot in self.slots if slot.carrying is None), None)

    async def tell(self, message: dict[str, Any]) -> None:
        """Send a message unless this participant has left."""
        if not self.gone:
            await self.send_final(message)

    async def send_final(self, message: dict[str, Any]) -> None:
        """Send a message, ignoring a socket that is already gone."""
        try:
            await self.send(message)
        except (ConnectionError, RuntimeError) as error:
            logger.debug("could not tell %s: %s", self.id, error)
