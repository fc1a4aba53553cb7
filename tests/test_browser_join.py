"""A client joins from their link in Chromium, with a speech file as their microphone, and
talks with a caseworker (an aiortc participant); what the server recorded of the client
transcribes to what they said."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from playwright.async_api import Page, expect

from tests.browser import PageLog, chromium, screenshot, speech_wav
from tests.live import eventually, live_booking, sample_speech
from tests.media_fixtures import RATE, read_mono
from transcription.engine import load_engine
from transcription.samples import sample
from transcription.wer import normalize, word_error_rate
from visits.models import BookingStatus

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# The fake microphone starts playing at the device check; the call connects some seconds
# later (consent, lobby, admission, ICE), so the speech waits this long.
LEAD_SILENCE = 10.0


async def test_client_joins_from_the_link_and_is_recorded_saying_their_words(
    site: TestClient, tmp_path: Path
) -> None:
    """The join link passes the device check, the notice and the lobby; once admitted the
    client's speech reaches the server, which records it: the recording transcribes to the
    spoken words and the client saw and heard the caseworker."""
    visit = await live_booking(site)
    spoken = sample("client_update")
    microphone = speech_wav(spoken, tmp_path / "client.wav", LEAD_SILENCE)

    caseworker = visit.staff()
    await caseworker.join()
    await caseworker.consent("accepted")

    log = PageLog()
    async with chromium(fake_audio=microphone) as browser:
        page = log.watch(await browser.new_page())
        await page.goto(f"{visit.base_url()}/v/{visit.client_link.link_token}/join")

        # 1. Device check, in plain words.
        await expect(page.get_by_text("Connection: good")).to_be_visible()
        await expect(page.get_by_text("Microphone: working")).to_be_visible()
        microphone_on = time.monotonic()
        await expect(page.get_by_text("Camera: working")).to_be_visible()
        await expect(page.get_by_role("button", name="Continue")).to_be_enabled()
        await screenshot(page, "join-device-check")
        await page.get_by_role("button", name="Continue").click()

        # 2. The recording notice names the caseworker; the client agrees.
        await expect(page.get_by_role("heading", name="This visit is recorded")).to_be_visible()
        await expect(page.get_by_text("So that Casey can write")).to_be_visible()
        await page.get_by_role("button", name="Yes, I agree to the recording").click()

        # 3. The lobby, until the caseworker admits them.
        await expect(page.get_by_role("heading", name="Please wait")).to_be_visible()
        await expect(page.get_by_text("Casey will let you in shortly")).to_be_visible()
        await screenshot(page, "join-lobby")
        lobby = await caseworker.expect(
            "participants", lambda m: any(p["consent"] for p in m["participants"])
        )
        waiting = [p for p in lobby["participants"] if not p["admitted"]]
        assert [(p["name"], p["consent"]) for p in waiting] == [("Dana Client", "accepted")]
        await caseworker.send(type="admit", participant_id=waiting[0]["participant_id"])

        # 4. The call: both connected, everyone agreed, so it is recorded and says so.
        await caseworker.connect_media(sample_speech(sample("caseworker_plan")))
        await caseworker.expect("participants", lambda m: m["recording"] == "recording")
        await expect(page.locator("#recording-badge")).to_have_text("Recording")
        await expect(page.get_by_role("figure").filter(has_text="Casey")).to_be_visible()
        await expect_remote_video_playing(page)
        await screenshot(page, "join-call")
        assert time.monotonic() - microphone_on < LEAD_SILENCE, "the call connected too late"

        # Hang up once the speech has played, then the visit ends.
        speech_ends = microphone_on + LEAD_SILENCE + spoken_seconds(spoken.path) + 1.5
        await asyncio.sleep(max(0.0, speech_ends - time.monotonic()))
        await page.get_by_role("button", name="Leave").click()
        await expect(page.get_by_role("heading", name="The visit has ended")).to_be_visible()
        await caseworker.leave()
        assert log.errors == [], log.console
        assert log.failed_requests == []

    async def finished() -> bool:
        booking, recordings = await visit.stored()
        return booking.status is BookingStatus.COMPLETED and bool(recordings)

    await eventually(finished)
    _, recordings = await visit.stored()
    heard = {(r.participant_role, r.kind): r for r in recordings}
    assert set(heard) >= {("client", "audio"), ("client", "video"), ("caseworker", "audio")}
    engine = await asyncio.to_thread(load_engine)
    transcript = await asyncio.to_thread(
        engine.transcribe, visit.data_dir / heard["client", "audio"].path
    )
    error_rate = word_error_rate(spoken.text, transcript.text)
    assert error_rate <= 0.15, f"WER {error_rate:.2f}: {normalize(transcript.text)!r}"
    assert caseworker.received["audio"] > 200
    assert caseworker.received["video"] > 20


def spoken_seconds(path: Path) -> float:
    return len(read_mono(path)) / RATE


async def expect_remote_video_playing(page: Page) -> None:
    """The caseworker's video plays in the client's page (frames arrive and are decoded)."""
    video = page.locator("#remotes video").first
    await expect(video).to_be_visible()
    await page.wait_for_function(
        "() => { const v = document.querySelector('#remotes video');"
        " return v && v.videoWidth > 0 && v.currentTime > 0.5; }"
    )
