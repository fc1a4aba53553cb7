"""A real visit through the server: two aiortc participants, the lobby, consent, relay and
recording of each participant."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from tests.live import LIVE_SETTINGS, eventually, live_booking, sample_speech
from tests.media_fixtures import RATE, best_match, read_mono
from tests.world import database
from transcription.samples import sample
from visits.models import BookingStatus, Consent, RecordingOutcome

pytestmark = pytest.mark.slow


async def test_each_participant_is_recorded_for_as_long_as_they_were_connected(service) -> None:  # type: ignore[no-untyped-def]
    """Caseworker and client talk for about ten seconds; each one's audio file lasts as long as
    they were connected (within 0.5 s) and holds the speech they sent, and each heard the other."""
    client = await service(**LIVE_SETTINGS)
    visit = await live_booking(client)
    worker_speech = sample_speech(sample("caseworker_plan"))
    client_speech = sample_speech(sample("client_update"))

    caseworker = visit.staff()
    await caseworker.join()
    assert caseworker.welcome["state"] == "admitted"
    await caseworker.consent("accepted")

    person = visit.by_link()
    welcome = await person.join()
    assert welcome["state"] == "lobby"
    assert welcome["ice"] == {"iceServers": []}
    await person.consent("accepted", language="en")
    waiting = await caseworker.waiting()
    assert [p["name"] for p in waiting] == ["Dana Client"]
    await caseworker.send(type="admit", participant_id=waiting[0]["participant_id"])
    await person.expect("admitted")

    await asyncio.gather(
        caseworker.connect_media(worker_speech), person.connect_media(client_speech)
    )
    await caseworker.expect("participants", lambda m: m["recording"] == "recording")
    await asyncio.sleep(11)
    await person.leave()
    await caseworker.leave()

    async def finished() -> bool:
        booking, recordings = await visit.stored()
        return booking.status is BookingStatus.COMPLETED and bool(recordings)

    await eventually(finished)
    booking, recordings = await visit.stored()
    assert booking.recording_status is RecordingOutcome.RECORDED
    assert booking.started_at is not None
    assert booking.ended_at is not None
    assert booking.recording_manifest is not None
    audio = {r.participant_role: r for r in recordings if r.kind == "audio"}
    assert set(audio) == {"caseworker", "client"}
    assert {r.kind for r in recordings} >= {"audio", "video"}
    data_dir = visit.data_dir
    for role, sent, who in (
        ("caseworker", worker_speech, caseworker),
        ("client", client_speech, person),
    ):
        recording = audio[role]
        path = data_dir / recording.path
        assert path.exists()
        assert recording.sha256
        assert len(recording.sha256) == 64
        assert recording.duration_seconds == pytest.approx(who.connected_seconds, abs=0.5)
        first_words = sent[RATE * 2 : RATE * 8].astype("float32") / 32767  # 6 s after the lead-in
        score, _ = best_match(read_mono(path), first_words)
        assert score > 0.8, f"{role}'s recording does not hold their speech ({score:.2f})"
    assert audio["client"].participant_name == "Dana Client"
    # The relay worked both ways: each side received the other's audio and video.
    for who in (caseworker, person):
        assert who.received["audio"] > 200
        assert who.received["video"] > 20

    async with database(client).transaction() as session:
        consents = list(await session.scalars(select(Consent)))
    assert sorted((c.participant_role, c.choice.value, c.language) for c in consents) == [
        ("caseworker", "accepted", "en"),
        ("client", "accepted", "en"),
    ]
    assert all(c.notice_version == caseworker.welcome["consent_notice_version"] for c in consents)


async def test_a_declined_consent_records_nothing_and_the_record_says_why(service) -> None:  # type: ignore[no-untyped-def]
    """When the client declines the notice the visit goes on, nothing is recorded, and the
    visit record says the client declined."""
    client = await service(**LIVE_SETTINGS)
    visit = await live_booking(client)
    caseworker = visit.staff()
    await caseworker.join()
    await caseworker.consent("accepted")
    person = visit.by_link()
    await person.join()
    await person.consent("declined", language="es")
    waiting = await caseworker.waiting()
    await caseworker.send(type="admit", participant_id=waiting[0]["participant_id"])
    await person.expect("admitted")
    await asyncio.gather(
        caseworker.connect_media(sample_speech(sample("caseworker_greeting"))),
        person.connect_media(sample_speech(sample("client_update"))),
    )
    update = await person.expect("participants", lambda m: m["recording"] == "declined")
    assert "client declined" in update["recording_note"]
    await asyncio.sleep(3)
    assert person.received["audio"] > 50  # the visit itself went on
    await caseworker.send(type="end")
    await person.expect("ended")

    async def finished() -> bool:
        booking, _ = await visit.stored()
        return booking.status is BookingStatus.COMPLETED

    await eventually(finished)
    booking, recordings = await visit.stored()
    assert recordings == []
    assert booking.recording_status is RecordingOutcome.DECLINED
    assert booking.recording_note == "Not recorded: the client declined the recording."
    assert not any((visit.data_dir / "recordings").rglob("*.*"))
