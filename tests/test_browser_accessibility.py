"""Accessibility of the staff and client pages in Chromium: axe-core finds no serious or
critical violation, and each page is kept as a screenshot at 360 px wide and at 200% zoom.

axe-core is vendored (tests/vendor/axe-core/axe.min.js, MPL-2.0, from `npm pack
axe-core@4.10.3`), so the test needs no network and no npm at run time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from playwright.async_api import BrowserContext, Page, expect

from tests.browser import PHONE, chromium, screenshot
from tests.world import PASSWORD, add_case, add_staff, add_team, book, staff_persona
from visits.models import StaffRole

pytestmark = [pytest.mark.slow, pytest.mark.browser]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# 200% zoom of a 1280x900 window shows as many CSS pixels as a 640x450 one.
ZOOMED = {"width": 640, "height": 450}


async def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is now."""
    await page.add_script_tag(content=AXE.read_text())
    results = await page.evaluate("async () => JSON.stringify(await axe.run(document))")
    violations = json.loads(results)["violations"]
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


async def sign_in(context: BrowserContext, base: str, username: str) -> Page:
    page = await context.new_page()
    await page.goto(f"{base}/")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).not_to_have_url(f"{base}/")
    return page


async def check(page: Page, url: str, name: str, found: dict[str, Any]) -> None:
    """Open the page at phone width and zoomed, keep both screenshots, collect violations."""
    for label, size in (("360px", PHONE), ("zoom200", ZOOMED)):
        await page.set_viewport_size(size)
        await page.goto(url)
        await page.wait_for_load_state("networkidle")
        await screenshot(page, f"a11y-{name}-{label}")
        if problems := await serious_violations(page):
            found[f"{name} ({label})"] = problems


async def test_staff_and_client_pages_have_no_serious_accessibility_violations(
    site: TestClient,
) -> None:
    """Sign-in, workspace, case, note review, office hours, console, administration and the
    client's portal pass axe-core with no serious or critical violation at 360 px and 200%."""
    team = await add_team(site, "North")
    caseworker = await staff_persona(site, "casey", StaffRole.CASEWORKER, team)
    await add_staff(site, "ada", StaffRole.ADMIN, None)
    case, person = await add_case(site, caseworker, "C-100", "Dana Client")
    booking = await book(site, caseworker, case, person)
    base = str(site.make_url("")).rstrip("/")
    found: dict[str, Any] = {}
    async with chromium() as context:
        page = await context.new_page()
        await check(page, f"{base}/", "sign-in", found)
        await check(page, booking["client_link"]["url"], "portal", found)
        staff = await sign_in(context, base, "casey")
        await check(staff, f"{base}/workspace", "workspace", found)
        await check(staff, f"{base}/cases/{case.id}", "case", found)
        await check(staff, f"{base}/visits/{booking['booking']['id']}/note", "note", found)
        await check(staff, f"{base}/office-hours", "office-hours", found)
        await check(staff, f"{base}/console", "console", found)
    async with chromium() as context:
        admin = await sign_in(context, base, "ada")
        await check(admin, f"{base}/admin", "admin", found)
    assert not found, json.dumps(found, indent=1)


async def test_the_check_reports_a_page_with_unlabelled_controls() -> None:
    """The axe run is real: an image without text and an unlabelled field are reported."""
    async with chromium() as context:
        page = await context.new_page()
        await page.set_content(
            '<html lang="en"><title>t</title><main><img src="x.png"><input type="text"></main>'
        )
        found = {v["id"] for v in await serious_violations(page)}
    assert {"image-alt", "label"} <= found


async def press_tab_until(page: Page, matches: str, limit: int = 40) -> None:
    """Tab through the page until the focused element matches the JS predicate `matches`."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate(f"(el => {matches})(document.activeElement)"):
            return
    raise AssertionError(f"keyboard focus never reached {matches}")


async def test_caseworker_signs_in_searches_and_opens_a_case_with_the_keyboard_alone(
    site: TestClient,
) -> None:
    """Without a mouse: sign in, search my cases by client name, and open the case found."""
    team = await add_team(site, "North")
    caseworker = await staff_persona(site, "casey", StaffRole.CASEWORKER, team)
    case, _ = await add_case(site, caseworker, "C-100", "Dana Client")
    await add_case(site, caseworker, "C-200", "Other Person")
    base = str(site.make_url("")).rstrip("/")
    async with chromium() as context:
        page = await context.new_page()
        await page.goto(f"{base}/")
        await press_tab_until(page, "el.autocomplete === 'username' || el.name === 'username'")
        await page.keyboard.type("casey")
        await press_tab_until(page, "el.type === 'password'")
        await page.keyboard.type(PASSWORD)
        await page.keyboard.press("Enter")
        await expect(page).to_have_url(f"{base}/workspace")
        await press_tab_until(page, "el.id === 'q'")
        await page.keyboard.type("dana")
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("link", name="C-100", exact=False)).to_be_visible()
        await expect(page.get_by_role("link", name="C-200", exact=False)).to_have_count(0)
        await press_tab_until(page, f"el.getAttribute('href') === '/cases/{case.id}'")
        await page.keyboard.press("Enter")
        await expect(page).to_have_url(f"{base}/cases/{case.id}")
        await screenshot(page, "keyboard-case-page")
