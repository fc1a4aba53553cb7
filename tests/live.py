"""Setting up live visits for tests: a booking, its caseworker and its client on a running app."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from tests.media_fixtures import RATE, read_mono
from tests.visit_clients import VisitParticipant
from tests.world import Persona, add_case, add_team, book, database, link_persona, staff_persona
from transcription.samples import Sample
from visits.models import Booking, Recording, StaffRole
from visits.web.keys import SETTINGS

LIVE_SETTINGS: dict[str, Any] = {
    "ice_host_addresses": ["127.0.0.1"],
    "visit_empty_grace_seconds": 0.0,
}


@dataclass
class LiveBooking:
    client: TestClient
    caseworker: Persona
    booking: dict[str, Any]
    client_link: Persona

    @property
    def booking_id(self) -> uuid.UUID:
        return uuid.UUID(self.booking["booking"]["id"])

    @property
    def data_dir(self) -> Path:
        return self.client.server.app[SETTINGS].data_dir

    def base_url(self) -> str:
        return str(self.client.make_url(""))

    def staff(self, persona: Persona | None = None) -> VisitParticipant:
        persona = persona or self.caseworker
        return VisitParticipant(
            self.client.session,
            self.base_url(),
            {"booking_id": str(self.booking_id)},
            cookie=persona.cookie,
        )

    def by_link(self, token: str | None = None) -> VisitParticipant:
        return VisitParticipant(
            self.client.session, self.base_url(), {"token": token or self.client_link.link_token}
        )

    async def stored(self) -> tuple[Booking, list[Recording]]:
        async with database(self.client).transaction() as session:
            booking = await session.get(Booking, self.booking_id)
            recordings = list(
                await session.scalars(
                    select(Recording).where(Recording.booking_id == self.booking_id)
                )
            )
        assert booking is not None
        return booking, recordings


async def live_booking(client: TestClient) -> LiveBooking:
    """A caseworker (signed in) and a client with a join link for a visit today."""
    team = await add_team(client, "North")
    caseworker = await staff_persona(client, "casey", StaffRole.CASEWORKER, team)
    case, person = await add_case(client, caseworker, "C-100", "Dana Client")
    booking = await book(client, caseworker, case, person)
    return LiveBooking(client, caseworker, booking, link_persona("client", booking))


def sample_speech(sample: Sample, lead_silence: float = 2.0) -> np.ndarray:
    """A shipped speech sample as int16 mono 48 kHz, after some silence (the fake microphone
    starts before the call connects)."""
    voice = read_mono(sample.path)
    silence = np.zeros(round(lead_silence * RATE), np.float32)
    return (np.concatenate([silence, voice]) * 32767).astype(np.int16)


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError("the condition never became true")
        await asyncio.sleep(0.1)
