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

from tests.browser import ONE_ENGINE, PageLog, chromium, screenshot, speech_wav
from tests.live import eventually, live_booking, sample_speech
from tests.media_fixtures import RATE, read_mono
from transcription.engine import load_engine
from transcription.samples import sample
from transcription.wer import normalize, word_error_rate
from visits.models import BookingStatus

pytestmark = [pytest.mark.slow, pytest.mark.browser, ONE_ENGINE]

# The fake microphone starts playing at the device check; the call connects some seconds
# later (consent, lobby, admission, ICE), so the speech waits this long.
LEAD_SILENCE = 12.0


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


async def test_a_broken_link_says_so_in_the_clients_language(site: TestClient) -> None:
    """A link that is not (or no longer) valid ends at a plain message, in Spanish for a
    Spanish browser, instead of a device check that never finishes."""
    await live_booking(site)
    log = PageLog()
    async with chromium(locale="es-MX") as browser:
        page = log.watch(await browser.new_page())
        await page.goto(f"{site.make_url('')}/v/not-a-real-token/join")
        await expect(page.get_by_role("alert")).to_have_text(
            "Este enlace de visita no funciona o ha vencido. Contacte a su trabajador social."
        )
        await expect(page.get_by_text("Conexión: no se pudo llegar a la visita ✗")).to_be_visible()
        await expect(page.get_by_role("button", name="Continuar")).to_be_hidden()
        assert log.errors == [], log.console


WIDER_THAN_THE_SCREEN = """() => [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5
                   || e.scrollWidth > e.clientWidth + 0.5)
    .map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`)"""


@pytest.mark.parametrize("path", ["join", "kiosk"])
async def test_visit_pages_fit_a_small_phone_at_200_percent_zoom(
    site: TestClient, path: str
) -> None:
    """At 200% zoom a 360 px phone is 180 CSS pixels wide: nothing needs sideways scrolling,
    every button is a large target and has a name."""
    visit = await live_booking(site)
    async with chromium(viewport={"width": 180, "height": 400}) as browser:
        page = await browser.new_page()
        if path == "join":
            await page.goto(f"{visit.base_url()}/v/{visit.client_link.link_token}/join")
            await expect(page.get_by_role("button", name="Continue")).to_be_enabled()
        else:
            await page.goto(f"{visit.base_url()}/kiosk")
            await expect(page.get_by_role("button", name="Join")).to_be_visible()
        overflow = await page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        wide = await page.evaluate(WIDER_THAN_THE_SCREEN)
        assert overflow <= 0, f"{overflow} px of sideways scrolling: {wide}"
        buttons = await page.evaluate(
            """() => [...document.querySelectorAll('button, select, input')]
                .filter((b) => b.offsetParent !== null)
                .map((b) => [b.textContent.trim() || b.labels?.[0]?.textContent.trim() || '',
                             b.getBoundingClientRect().height])"""
        )
        assert buttons
        for name, height in buttons:
            assert name, "a control without a visible name"
            assert height >= 44, f"{name!r} is only {height} px tall"
        await screenshot(page, f"{path}-zoom-200")
