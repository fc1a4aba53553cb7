"""A visit's transcript: each participant's recording transcribed on its own, merged on the
visit's clock with speakers, as a persisted job that survives restarts and retries failures."""

from __future__ import annotations

import shutil
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from tests.live import LiveBooking, eventually, live_booking
from tests.speech import pink_noise, silence, wav_file, white_noise
from tests.world import database
from transcription.jobs import retry_at
from transcription.keys import TRANSCRIPTION_QUEUE
from transcription.models import JobStatus, TranscriptionJob
from transcription.samples import sample
from visits.models import AuditEvent, Recording, RecordingStatus

pytestmark = pytest.mark.slow

FAST_RETRY = {"transcription_retry_seconds": 0.2, "transcription_poll_seconds": 0.1}


async def add_track(
    visit: LiveBooking, source: Any, role: str, name: str, offset: float, filename: str
) -> None:
    """A finalized audio recording of the visit, as the recorder leaves it."""
    directory = visit.data_dir / "recordings" / str(visit.booking_id)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / filename
    if isinstance(source, str):
        shutil.copyfile(sample(source).path, path)
    else:
        wav_file(source, path)
    async with database(visit.client).transaction() as session:
        session.add(
            Recording(
                booking_id=visit.booking_id,
                participant_role=role,
                participant_name=name,
                kind="audio",
                path=str(path.relative_to(visit.data_dir)),
                offset_seconds=offset,
                status=RecordingStatus.FINALIZED,
            )
        )


async def transcript(visit: LiveBooking) -> dict[str, Any]:
    response = await visit.caseworker.call(
        visit.client, "GET", f"/api/bookings/{visit.booking_id}/transcript"
    )
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def settled(visit: LiveBooking, within: float = 180.0) -> dict[str, Any]:
    """The transcript once its job is done or has failed for good."""

    async def finished() -> bool:
        return (await transcript(visit))["status"] in ("done", "failed")

    await eventually(finished, within=within)
    return await transcript(visit)


def words(text: str) -> str:
    return " ".join("".join(c for c in text.lower() if c.isalnum() or c.isspace()).split())


async def test_each_line_carries_its_speaker_in_the_order_said_and_silence_or_noise_say_nothing(
    service,  # type: ignore[no-untyped-def]
) -> None:
    client = await service()
    visit = await live_booking(client)
    # The caseworker speaks first (12.4 s), the client answers from 14 s on; the interpreter's
    # microphone only picked up silence and the family member's only hiss and room noise.
    await add_track(visit, "caseworker_greeting", "caseworker", "Casey", 0.0, "casey.ogg")
    await add_track(visit, "client_update", "client", "Dana Client", 14.0, "dana.ogg")
    await add_track(visit, silence(20), "interpreter", "Ines", 1.0, "ines.wav")
    noise = white_noise(10, -45) + pink_noise(10, -30, seed=1)
    await add_track(visit, noise, "guest", "Gus", 2.0, "gus.wav")
    assert (await transcript(visit))["status"] == "none"

    await client.server.app[TRANSCRIPTION_QUEUE].enqueue(visit.booking_id)
    result = await settled(visit)

    assert result["status"] == "done", result["error"]
    assert result["progress"] == 1.0
    lines = result["segments"]
    speakers = [(line["speaker_role"], line["speaker_name"]) for line in lines]
    assert set(speakers) == {("caseworker", "Casey"), ("client", "Dana Client")}
    # In the order said: all of the caseworker's greeting, then the client's answer.
    roles = [role for role, _ in speakers]
    assert roles == sorted(roles)  # "caseworker" < "client"
    assert [line["start"] for line in lines] == sorted(line["start"] for line in lines)
    client_lines = [line for line in lines if line["speaker_role"] == "client"]
    assert min(line["start"] for line in client_lines) >= 14.0
    said = words(" ".join(line["text"] for line in lines if line["speaker_role"] == "caseworker"))
    assert "family services" in said
    assert "video visit" in said
    assert result["text"].splitlines()[0].startswith("Casey (caseworker): ")
    assert len(result["sha256"]) == 64
    assert result["engine"] == "faster-whisper"

    async with database(client).transaction() as session:
        actions = set(await session.scalars(select(AuditEvent.action)))
    assert {"transcript.create", "transcript.view"} <= actions


async def test_a_job_left_running_by_a_stopped_server_is_finished_after_the_restart(
    service,  # type: ignore[no-untyped-def]
) -> None:
    first = await service()
    visit = await live_booking(first)
    await add_track(visit, "client_closing", "client", "Dana Client", 0.0, "dana.ogg")
    # As if the server had been killed while transcribing: the row says running.
    async with database(first).transaction() as session:
        session.add(
            TranscriptionJob(booking_id=visit.booking_id, status=JobStatus.RUNNING, attempts=1)
        )
    await first.close()

    second: TestClient = await service()
    visit.client = second
    result = await settled(visit)
    assert result["status"] == "done", result["error"]
    assert result["attempts"] == 2
    assert "children are doing well in school" in words(result["text"])


async def test_a_broken_recording_is_retried_with_backoff_then_reported_failed(
    service,  # type: ignore[no-untyped-def]
) -> None:
    client = await service(transcription_max_attempts=3, **FAST_RETRY)
    visit = await live_booking(client)
    directory = visit.data_dir / "recordings" / str(visit.booking_id)
    directory.mkdir(parents=True)
    (directory / "client.ogg").write_bytes(b"OggS but not really an ogg file")
    async with database(client).transaction() as session:
        session.add(
            Recording(
                booking_id=visit.booking_id,
                participant_role="client",
                participant_name="Dana Client",
                kind="audio",
                path=str((directory / "client.ogg").relative_to(visit.data_dir)),
                status=RecordingStatus.INTERRUPTED,
            )
        )
    await client.server.app[TRANSCRIPTION_QUEUE].enqueue(visit.booking_id)
    result = await settled(visit, within=60)
    assert result["status"] == "failed"
    assert result["attempts"] == 3
    assert "not a readable audio" in result["error"]
    assert result["segments"] == []


async def test_a_visit_without_audio_fails_at_once_with_a_reason(service) -> None:  # type: ignore[no-untyped-def]
    client = await service(**FAST_RETRY)
    visit = await live_booking(client)
    await client.server.app[TRANSCRIPTION_QUEUE].enqueue(visit.booking_id)
    result = await settled(visit, within=30)
    assert result["status"] == "failed"
    assert result["attempts"] == 1
    assert "no audio recording" in result["error"]


def test_backoff_doubles_after_each_failure() -> None:
    now = datetime(2026, 11, 29, tzinfo=UTC)
    delays = [retry_at(now, attempts, 30) - now for attempts in (1, 2, 3, 4)]
    assert delays == [timedelta(seconds=s) for s in (30, 60, 120, 240)]


async def test_another_caseworkers_visit_transcript_is_not_found(client) -> None:  # type: ignore[no-untyped-def]
    visit = await live_booking(client)
    response = await visit.caseworker.call(
        client, "GET", f"/api/bookings/{uuid.uuid4()}/transcript"
    )
    assert response.status == 404
    assert "booking" in (await response.json())["message"]
