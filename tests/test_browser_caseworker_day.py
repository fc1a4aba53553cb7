"""A caseworker's day in Chromium, from the browser alone: sign in, set office hours, book a
client from the case, see the client in the lobby, admit them, end the visit, open the draft
note that the visit's recording produced, decide its suggestions, sign it, and find it signed
on the case's timeline."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient
from playwright.async_api import expect

from tests.browser import DESKTOP, ONE_ENGINE, PageLog, chromium, screenshot, speech_wav
from tests.live import sample_speech
from tests.test_browser_console import casey_and_dana, midday_zone
from tests.visit_clients import VisitParticipant
from tests.world import PASSWORD
from transcription.samples import sample

pytestmark = [pytest.mark.slow, pytest.mark.browser, ONE_ENGINE]

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


async def test_a_caseworkers_day_from_sign_in_to_a_signed_note(site: TestClient, tmp_path) -> None:  # type: ignore[no-untyped-def]
    await casey_and_dana(site)
    base = str(site.make_url("")).rstrip("/")
    zone = midday_zone()
    today = WEEKDAYS[datetime.now(ZoneInfo(zone)).weekday()]
    microphone = speech_wav(sample("caseworker_plan"), tmp_path / "casey.wav", lead_silence=3.0)
    log = PageLog()
    async with chromium(viewport=DESKTOP, timezone_id=zone, fake_audio=microphone) as browser:
        page = log.watch(await browser.new_page())

        # Sign in: the caseworker lands on their cases.
        await page.goto(f"{base}/")
        await page.get_by_label("Username").fill("casey")
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("heading", name="My cases")).to_be_visible()
        await expect(page.get_by_role("link", name=re.compile("C-100"))).to_be_visible()

        # Office hours: today, all day, 30-minute slots; the preview shows free slots.
        await page.get_by_role("link", name="Office hours").click()
        await expect(page.locator("#blocks .block")).to_have_count(1)  # the editor has loaded
        await expect(page.get_by_label("Time zone")).to_have_value(zone)  # the browser's zone
        await page.get_by_label("Day", exact=True).select_option(label=today)
        await page.get_by_label("From", exact=True).fill("00:00")
        await page.get_by_label("To", exact=True).fill("23:30")
        await page.get_by_role("button", name="Save office hours").click()
        await expect(page.get_by_role("status")).to_have_text("Office hours saved.")
        await expect(page.locator("#preview-days li").first).to_contain_text(today)
        await screenshot(page, "workspace-office-hours")

        # Book Dana from the case, in the first free slot; the join link is shown.
        await page.get_by_role("link", name="My cases").click()
        await page.get_by_role("link", name=re.compile("C-100")).click()
        await expect(page.get_by_role("heading", name=re.compile("C-100"))).to_be_visible()
        await expect(page.locator("#slot option").nth(1)).to_be_attached()  # free slots loaded
        await page.wait_for_load_state("networkidle")
        await page.get_by_label("Purpose").fill("Monthly check-in")
        await page.get_by_role("button", name="Book this visit").click()
        await expect(page.locator("#book-status")).to_have_text("Booked.", timeout=90_000)
        link = page.locator("#join-url")
        await expect(link).to_have_text(re.compile(rf"^{re.escape(base)}/v/"))
        token = (await link.inner_text()).rstrip("/").split("/")[-1]
        await expect(page.locator("#timeline li")).to_contain_text("Monthly check-in")
        await screenshot(page, "workspace-case-booked")

        # The client joins from the link and waits; the caseworker admits them in the console.
        person = VisitParticipant(site.session, base, {"token": token})
        await person.join()
        await person.consent("accepted")
        await page.get_by_role("link", name="Visit console").click()
        visit = page.locator("#today-list li").filter(has_text="Dana Client")
        await expect(visit.get_by_text("1 waiting")).to_be_visible()
        await visit.get_by_role(
            "button", name=re.compile("Open the visit with Dana Client")
        ).click()
        await page.get_by_role("button", name="I agree to the recording").click()
        await page.get_by_role("button", name="Admit Dana Client").click()
        await person.expect("admitted")
        await person.connect_media(sample_speech(sample("client_update"), lead_silence=1.0))
        await expect(page.locator("#room-recording")).to_have_text("Recording")
        await page.wait_for_timeout(16_000)
        await page.get_by_role("button", name="End visit for everyone").click()
        await person.expect("ended")
        await person.close()

        # The draft note appears on the case once the recording is transcribed.
        await page.get_by_role("link", name="My cases").click()
        await page.get_by_role("link", name=re.compile("C-100")).click()
        review = page.get_by_role("link", name="Review and sign the note")
        for _ in range(60):
            if await review.count():
                break
            await page.wait_for_timeout(2000)
            await page.reload(wait_until="domcontentloaded")
            await page.locator("#timeline li").first.wait_for()
        await review.click()
        await expect(page.locator("#state")).to_have_text("DRAFT")
        await expect(page.locator("#risks")).to_contain_text("food insecurity")
        await screenshot(page, "workspace-note-draft")

        # Edit, decide every suggestion, sign.
        await page.get_by_label("Summary").fill("Dana lost her job; food bank and benefits help.")
        await page.get_by_role("button", name="Save the draft").click()
        await expect(page.get_by_role("status")).to_have_text("Draft saved.")
        buttons = page.get_by_role("button", name=re.compile("^Confirm: "))
        open_items = page.locator("#actions .badge, #risks .badge").filter(has_text="suggested")
        count = await buttons.count()
        assert count >= 2  # the spoken follow-up and the client's food insecurity at least
        for done in range(1, count + 1):
            await buttons.nth(done - 1).click()
            await expect(open_items).to_have_count(count - done)
        await page.get_by_role("button", name="Sign the note").click()
        await expect(page.locator("#state")).to_have_text("SIGNED by Casey")
        await expect(page.get_by_label("Summary")).to_have_value(re.compile("food bank"))

        # On the case's timeline the visit now carries a signed note.
        await page.get_by_role("link", name="Back to the case").click()
        entry = page.locator("#timeline li").filter(has_text="Monthly check-in")
        await expect(entry.locator(".badge.signed")).to_have_text("SIGNED")
        await expect(entry.get_by_role("link", name="Open the note")).to_be_visible()
        await screenshot(page, "workspace-case-signed")
        assert log.errors == [], log.console
