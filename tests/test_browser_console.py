"""The caseworker's console in Chromium: signing in, today's visits, the lobby, admitting,
the recording indicator, mute and camera, ending a visit, and starting a visit now."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient
from playwright.async_api import Page, expect

from tests.browser import DESKTOP, ONE_ENGINE, PageLog, chromium, screenshot
from tests.live import LiveBooking, eventually, sample_speech
from tests.visit_clients import VisitParticipant
from tests.world import (
    PASSWORD,
    Persona,
    add_case,
    add_team,
    book,
    database,
    link_persona,
    staff_persona,
)
from transcription.samples import sample
from visits.models import Booking, BookingStatus, Case, Client, StaffRole

pytestmark = [pytest.mark.slow, pytest.mark.browser, ONE_ENGINE]


def midday_zone() -> str:
    """A fixed-offset zone where it is about noon now, so "today" holds the next hour."""
    offset = 12 - datetime.now(UTC).hour
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


async def casey_and_dana(site: TestClient) -> tuple[Persona, Case, Client]:
    """Caseworker Casey (signed in through the API too) with case C-100 of client Dana."""
    team = await add_team(site, "North")
    caseworker = await staff_persona(site, "casey", StaffRole.CASEWORKER, team)
    case, person = await add_case(site, caseworker, "C-100", "Dana Client")
    return caseworker, case, person


async def visit_today(site: TestClient) -> LiveBooking:
    """Casey's visit with Dana, booked to start in two minutes."""
    caseworker, case, person = await casey_and_dana(site)
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=2)
    booking = await book(site, caseworker, case, person, start=start)
    return LiveBooking(site, caseworker, booking, link_persona("client", booking))


async def sign_in_to_console(page: Page, base_url: str) -> None:
    """As a caseworker would: the console sends them to sign in (a wrong password first),
    and back to the console after."""
    await page.goto(f"{base_url}/console")
    await expect(page).to_have_url(f"{base_url}/?next=/console")
    await page.get_by_label("Username").fill("casey")
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text(re.compile("password", re.I))
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{base_url}/console")
    await expect(page.get_by_role("heading", name="Visit console")).to_be_visible()
    await expect(page.get_by_text("Casey (caseworker)")).to_be_visible()


async def test_caseworker_admits_the_waiting_client_sees_recording_and_ends_the_visit(
    site: TestClient,
) -> None:
    """The console lists today's visit and its waiting client; the caseworker opens it,
    answers the notice, admits the client, sees and hears them with the recording
    indicator on, mutes and turns the camera off (the client is told), and ends it."""
    visit = await visit_today(site)
    base = visit.base_url()
    log = PageLog()
    async with chromium(viewport=DESKTOP, timezone_id=midday_zone()) as browser:
        page = log.watch(await browser.new_page())
        await sign_in_to_console(page, base)
        today = page.locator("#today-list li").filter(has_text="Dana Client")
        await expect(today).to_contain_text("C-100")
        await expect(today).to_contain_text("scheduled")

        person = visit.by_link()
        await person.join()
        await person.consent("accepted")
        await expect(today.get_by_text("1 waiting")).to_be_visible()
        open_visit = today.get_by_role("button", name=re.compile("Open the visit with Dana Client"))
        await open_visit.click()

        lobby = page.locator("#lobby-list li")
        await expect(lobby).to_contain_text("Dana Client (client) — recording accepted")
        await expect(page.locator("#room-recording")).to_have_text("Not recording yet")
        await page.get_by_role("button", name="I agree to the recording").click()
        await page.get_by_role("button", name="Admit Dana Client").click()
        await person.expect("admitted")
        await person.connect_media(sample_speech(sample("client_update")))

        await expect(page.locator("#room-recording")).to_have_text("Recording")
        await expect(page.get_by_text("Nobody is waiting.")).to_be_visible()
        tile = page.get_by_role("figure").filter(has_text="Dana Client")
        await expect(tile).to_be_visible()
        await page.wait_for_function(
            "() => [...document.querySelectorAll('#remotes video')]"
            ".some((v) => v.videoWidth > 0 && v.currentTime > 0.5)"
        )
        await screenshot(page, "console-in-visit")

        await page.get_by_role("button", name="Mute").click()
        await expect(page.get_by_role("button", name="Unmute")).to_have_attribute(
            "aria-pressed", "true"
        )
        await person.expect("participants", lambda m: caseworker_state(m) == (False, True))
        await page.get_by_role("button", name="Turn camera off").click()
        await person.expect("participants", lambda m: caseworker_state(m) == (False, False))
        await page.get_by_role("button", name="Unmute").click()
        await page.get_by_role("button", name="Turn camera on").click()
        await person.expect("participants", lambda m: caseworker_state(m) == (True, True))

        await page.get_by_role("button", name="End visit for everyone").click()
        ended = await person.expect("ended")
        assert ended["reason"] == "ended_by_staff"
        status = page.get_by_role("status").filter(has_text="The visit has ended.")
        await expect(status).to_be_visible()
        await expect(page.locator("#room")).to_be_hidden()
        await expect(today).to_contain_text("completed")
        await person.close()
        assert log.errors == [], log.console
        # Only the sign-in page's "who am I" before signing in, and the wrong password.
        assert set(log.failed_requests) == {f"401 {base}/api/session"}

    async def completed() -> bool:
        async with database(site).transaction() as session:
            booking = await session.get(Booking, visit.booking_id)
        return booking is not None and booking.status is BookingStatus.COMPLETED

    await eventually(completed)


def caseworker_state(message: dict[str, object]) -> tuple[bool, bool] | None:
    people = message["participants"]
    assert isinstance(people, list)
    for person in people:
        if person["role"] == "caseworker":
            return person["audio"], person["video"]
    return None


async def test_a_visit_started_now_gives_a_join_link_that_admits_the_client(
    site: TestClient,
) -> None:
    """ "Start a visit now" books an on-demand visit, shows the caseworker the client's join
    link and opens the visit; a client using that link waits in its lobby."""
    await casey_and_dana(site)
    base = str(site.make_url("")).rstrip("/")
    log = PageLog()
    async with chromium(viewport=DESKTOP, timezone_id=midday_zone()) as browser:
        page = log.watch(await browser.new_page())
        await sign_in_to_console(page, base)
        form = page.locator("#now")
        await expect(form.get_by_label("Case", exact=True)).to_have_text(re.compile("C-100"))
        await expect(form.get_by_label("Client", exact=True)).to_have_text("Dana Client")
        await form.get_by_label("Purpose").fill("Walk-in about food assistance")
        await form.get_by_role("button", name="Start visit now").click()

        link = form.get_by_label("Send this link to the client to join")
        await expect(link).to_have_value(re.compile(rf"^{re.escape(base)}/v/[\w-]+/join$"))
        room = page.get_by_role("heading", name=re.compile("Visit with Dana Client"))
        await expect(room).to_be_visible()
        await expect(page.locator("#today-list li").filter(has_text="started now")).to_be_visible()
        await screenshot(page, "console-started-now")

        token = (await link.input_value()).split("/")[-2]
        person = VisitParticipant(site.session, base, {"token": token})
        welcome = await person.join()
        assert welcome["state"] == "lobby"
        await expect(page.locator("#lobby-list li")).to_contain_text("Dana Client (client)")
        await page.get_by_role("button", name="Do not record").click()
        await page.get_by_role("button", name="Admit Dana Client").click()
        await person.expect("admitted")
        await page.get_by_role("button", name="End visit for everyone").click()
        await person.expect("ended")
        await person.close()
        await expect(page.locator("#room")).to_be_hidden()
        assert log.errors == [], log.console

    async with database(site).transaction() as session:
        booking = await session.get(Booking, welcome_booking_id(welcome))
    assert booking is not None
    assert booking.purpose == "Walk-in about food assistance"


def welcome_booking_id(welcome: dict[str, object]) -> uuid.UUID:
    booking = welcome["booking"]
    assert isinstance(booking, dict)
    return uuid.UUID(booking["id"])
