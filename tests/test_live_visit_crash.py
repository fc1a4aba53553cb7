"""A server killed mid-visit loses at most the last few seconds of the recording."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from tests.live import sample_speech
from tests.media_fixtures import RATE, best_match, read_mono
from tests.server_process import ServerProcess
from tests.visit_clients import VisitParticipant
from tests.world import PASSWORD
from transcription.samples import sample
from visits.db import Database
from visits.models import Recording, RecordingStatus

pytestmark = pytest.mark.slow

RECORD_SECONDS = 8.0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path / "data", ice_host_addresses="127.0.0.1", visit_empty_grace_seconds="0"
    )
    process.cli(
        "create-user",
        "--role",
        "caseworker",
        "--username",
        "casey",
        "--name",
        "Casey Worker",
        "--team",
        "North",
        stdin=PASSWORD + "\n",
    )
    process.start()
    yield process
    process.stop()


async def test_recordings_of_a_killed_server_are_recovered_on_restart(
    server: ServerProcess, tmp_path: Path
) -> None:
    """SIGKILL mid-visit, restart: both recordings are finalized, fingerprinted, marked as
    interrupted on the visit record, and hold the speech up to the last few seconds."""
    async with aiohttp.ClientSession() as http:
        signed_in = await http.post(
            f"{server.url}/api/session", json={"username": "casey", "password": PASSWORD}
        )
        me = await signed_in.json()
        cookie = signed_in.cookies["vv_session"].value
        staff = {"Cookie": f"vv_session={cookie}", "X-CSRF-Token": me["csrf_token"]}
        case = await (
            await http.post(
                f"{server.url}/api/cases",
                json={"case_number": "K-1", "clients": [{"full_name": "Kim Client"}]},
                headers=staff,
            )
        ).json()
        start = time.time() + 3600
        booking = await (
            await http.post(
                f"{server.url}/api/cases/{case['id']}/bookings",
                json={
                    "client_id": case["clients"][0]["id"],
                    "start_at": _iso(start),
                    "end_at": _iso(start + 1800),
                    "time_zone": "UTC",
                },
                headers=staff,
            )
        ).json()
        booking_id = uuid.UUID(booking["booking"]["id"])
        token = booking["client_link"]["url"].rsplit("/", 1)[1]

        caseworker = VisitParticipant(
            http, server.url, {"booking_id": str(booking_id)}, cookie=cookie
        )
        person = VisitParticipant(http, server.url, {"token": token})
        await caseworker.join()
        await caseworker.consent()
        await person.join()
        await person.consent()
        waiting = await caseworker.waiting()
        await caseworker.send(type="admit", participant_id=waiting[0]["participant_id"])
        await person.expect("admitted")
        client_speech = sample_speech(sample("client_update"))
        await asyncio.gather(
            caseworker.connect_media(sample_speech(sample("caseworker_greeting"))),
            person.connect_media(client_speech),
        )
        await caseworker.expect("participants", lambda m: m["recording"] == "recording")
        recording_from = time.time()
        await asyncio.sleep(RECORD_SECONDS)
        server.kill()
        recorded_for = time.time() - recording_from
        await asyncio.gather(caseworker.close(), person.close(), return_exceptions=True)

    server.start()  # recovery runs before the server answers
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'visits.db'}")
    try:
        async with database.transaction() as session:
            rows = list(
                await session.scalars(select(Recording).where(Recording.booking_id == booking_id))
            )
    finally:
        await database.close()
    audio = {row.participant_role: row for row in rows if row.kind == "audio"}
    assert set(audio) == {"caseworker", "client"}
    assert all(row.status is RecordingStatus.INTERRUPTED for row in rows)
    for row in audio.values():
        assert row.sha256
        assert row.duration_seconds is not None
        # At most a few seconds lost; never longer than the server was alive.
        assert recorded_for - 3.0 <= row.duration_seconds <= recorded_for + 1.0
    client_file = tmp_path / "data" / audio["client"].path
    first_words = client_speech[RATE * 2 : RATE * 5].astype("float32") / 32767
    score, _ = best_match(read_mono(client_file), first_words)
    assert score > 0.8

    async with aiohttp.ClientSession() as http:
        signed_in = await http.post(
            f"{server.url}/api/session", json={"username": "casey", "password": PASSWORD}
        )
        cookie = {"Cookie": f"vv_session={signed_in.cookies['vv_session'].value}"}
        record = await (
            await http.get(f"{server.url}/api/bookings/{booking_id}", headers=cookie)
        ).json()
    assert record["recording_status"] == "interrupted"
    assert record["status"] == "completed"
    assert "server stopped" in record["recording_note"]


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()
