"""My cases in Chromium with the keyboard alone: the search result is what stays on screen
(a slower initial list must not overwrite it), and the case found opens."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient
from playwright.async_api import Page, expect

from tests.browser import ONE_ENGINE, chromium, screenshot
from tests.world import PASSWORD, add_case, add_team, staff_persona
from visits.models import StaffRole

pytestmark = [pytest.mark.slow, pytest.mark.browser, ONE_ENGINE]


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
    """Without a mouse: sign in, search my cases by client name right away, see only the
    matching case, and open it."""
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
