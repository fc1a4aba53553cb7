"""Every page in headless Chromium: axe-core finds no serious or critical violation, nothing
needs sideways scrolling on a 360-pixel phone or at 200% zoom (screenshots kept), and the
caseworker's main flow works with the keyboard alone."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import BrowserContext, Page, expect

from tests.browser import DESKTOP, ONE_ENGINE, PHONE, chromium, screenshot
from tests.scheduling import add_office_hours, add_share_link
from tests.world import (
    PASSWORD,
    add_case,
    add_team,
    book,
    database,
    link_persona,
    staff_persona,
)
from visits.models import StaffRole, Transcript
from visits.notes.service import attach_draft_note

pytestmark = [pytest.mark.slow, pytest.mark.browser, ONE_ENGINE]

ZOOMED_DESKTOP = {"width": DESKTOP["width"] // 2, "height": DESKTOP["height"] // 2}

SEGMENTS = [
    {
        "start": 2.0,
        "end": 6.0,
        "text": "I lost my job and I have not been eating much.",
        "speaker_role": "client",
        "speaker_name": "Dana Client",
        "confidence": 0.9,
    },
    {
        "start": 7.0,
        "end": 9.0,
        "text": "The next visit is on Tuesday at ten.",
        "speaker_role": "caseworker",
        "speaker_name": "Casey",
        "confidence": 0.9,
    },
]


async def world(site: TestClient) -> dict[str, str]:
    """A caseworker with office hours, a case, a booked visit with a draft note, a booking
    link; and an administrator."""
    team = await add_team(site, "North")
    casey = await staff_persona(site, "casey", StaffRole.CASEWORKER, team)
    await staff_persona(site, "root", StaffRole.ADMIN, None)
    await add_office_hours(site, casey)
    case, person = await add_case(site, casey, "C-100", "Dana Client")
    booking = await book(site, casey, case, person)
    booking_id = booking["booking"]["id"]
    async with database(site).transaction() as session:
        session.add(Transcript(booking_id=uuid.UUID(booking_id), status="done", segments=SEGMENTS))
        await session.flush()
        await attach_draft_note(session, uuid.UUID(booking_id))
    _, share_token = await add_share_link(site, casey, case.id, person.id)
    return {
        "case": str(case.id),
        "booking": booking_id,
        "client_token": link_persona("client", booking).link_token,
        "share_token": share_token,
    }


async def sign_in(context: BrowserContext, base: str, username: str) -> None:
    page = await context.new_page()
    await page.goto(f"{base}/")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(re.compile(r"/(workspace|admin)$"))
    await page.close()


async def check_page(context: BrowserContext, url: str, name: str, ready: str) -> list[str]:
    """Problems on one page: serious/critical axe violations and sideways scrolling at 360 px
    and at 200% zoom of a desktop window."""
    problems: list[str] = []
    page = await context.new_page()
    await page.set_viewport_size(PHONE)
    await page.goto(url)
    await expect(page.locator(ready).first).to_be_visible()
    await page.wait_for_load_state("networkidle")
    results = await Axe().run(page)
    for violation in results.response["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = [node["target"] for node in violation["nodes"]][:3]
            problems.append(f"{name}: {violation['id']} ({violation['impact']}) at {targets}")
    problems += await overflow(page, f"{name} at 360 px")
    await screenshot(page, f"a11y-{name}-360px")
    # A 1280x900 window zoomed to 200% lays pages out in 640x450 CSS pixels.
    await page.set_viewport_size(ZOOMED_DESKTOP)
    problems += await overflow(page, f"{name} at 200%")
    await screenshot(page, f"a11y-{name}-zoom-200")
    await page.close()
    return problems


async def overflow(page: Page, where: str) -> list[str]:
    wide: Any = await page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    return (
        [f"{where}: scrolls sideways ({wide[0]} > {wide[1]} px)"] if wide[0] > wide[1] + 1 else []
    )


async def test_every_page_passes_axe_and_fits_a_phone_and_200_percent_zoom(
    site: TestClient,
) -> None:
    ids = await world(site)
    base = str(site.make_url("")).rstrip("/")
    client_pages = {
        "sign-in": ("/", "#sign-in"),
        "book": (f"/book/{ids['share_token']}", "h1"),
        "portal": (f"/v/{ids['client_token']}", "h1"),
        "join": (f"/v/{ids['client_token']}/join", "h1"),
        "kiosk": ("/kiosk", "h1"),
    }
    staff_pages = {
        "workspace": ("/workspace", "#cases li"),
        "case": (f"/cases/{ids['case']}", "#timeline li"),
        "office-hours": ("/office-hours", "#blocks .block"),
        "note": (f"/visits/{ids['booking']}/note", "#risks li"),
        "console": ("/console", "h1"),
    }
    problems: list[str] = []
    async with chromium() as anonymous:
        for name, (path, ready) in client_pages.items():
            problems += await check_page(anonymous, base + path, name, ready)
    async with chromium() as caseworker:
        await sign_in(caseworker, base, "casey")
        for name, (path, ready) in staff_pages.items():
            problems += await check_page(caseworker, base + path, name, ready)
    async with chromium() as admin:
        await sign_in(admin, base, "root")
        problems += await check_page(admin, f"{base}/admin", "admin", "#staff tr")
    assert problems == []


async def test_a_caseworker_signs_in_opens_a_case_and_books_with_the_keyboard_alone(
    site: TestClient,
) -> None:
    ids = await world(site)
    base = str(site.make_url("")).rstrip("/")
    async with chromium(viewport=DESKTOP) as browser:
        page = await browser.new_page()
        await page.goto(f"{base}/")
        await expect(page.get_by_label("Username")).to_be_focused()  # the page puts it there
        await page.keyboard.type("casey")
        await page.keyboard.press("Tab")
        await page.keyboard.type(PASSWORD)
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("heading", name="My cases")).to_be_visible()

        await tab_to(page, lambda e: e.get("text", "").startswith("C-100"))
        await page.keyboard.press("Enter")
        await expect(page.locator("#timeline li")).to_have_count(1)
        await tab_to(page, lambda e: e.get("id") == "slot")
        await page.keyboard.press("ArrowDown")  # the second free slot
        await tab_to(page, lambda e: e.get("text") == "Book this visit")
        await page.keyboard.press("Enter")
        await expect(page.locator("#join-url")).to_have_text(re.compile(r"/v/"))
        await expect(page.locator("#timeline li")).to_have_count(2)
        assert ids["case"] in page.url


async def tab_to(page: Page, wanted: Any, limit: int = 60) -> None:
    """Press Tab until the focused element is the wanted one (as a keyboard user would)."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        focused = await page.evaluate(
            "() => ({id: document.activeElement.id,"
            " text: document.activeElement.textContent.trim()})"
        )
        if wanted(focused):
            return
    raise AssertionError("never reached the wanted element with Tab")
