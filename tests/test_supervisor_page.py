"""The supervisor's page in headless Chromium: filtering visits, the review queue, a visit's
record with its recording playing beside the transcript, and the metrics chart."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient
from playwright.async_api import BrowserContext, Page, async_playwright, expect

from tests.supervision_world import Team, add_record, build_team
from tests.world import Persona

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--autoplay-policy=no-user-gesture-required",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    "--no-sandbox",
]


@pytest.fixture
async def browser(tmp_path) -> AsyncIterator[BrowserContext]:  # type: ignore[no-untyped-def]
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=FLAGS
        )
        try:
            yield context
        finally:
            await context.close()


async def open_as(browser: BrowserContext, client: TestClient, persona: Persona) -> Page:
    base = str(client.make_url("")).rstrip("/")
    await browser.add_cookies([{"name": "vv_session", "value": persona.cookie, "url": base}])
    page = await browser.new_page()
    await page.goto(f"{base}/supervisor")
    return page


async def test_supervisor_filters_reviews_plays_and_charts(
    client: TestClient, browser: BrowserContext
) -> None:
    """A supervisor narrows the visits list, clears a queue item with a comment, plays a
    visit from a transcript line (the line lights up, the playback is in the trail), and sees
    a bar per caseworker."""
    team: Team = await build_team(client)
    await add_record(client, team)
    page = await open_as(browser, client, team.sup)
    rows = page.locator("#visits-table tbody tr")
    await expect(rows).to_have_count(8)
    nav = page.get_by_role("navigation", name="Staff pages")
    await expect(nav.get_by_role("link", name="Supervision")).to_have_attribute(
        "aria-current", "page"
    )

    await page.get_by_label("Caseworker", exact=True).select_option(label="Ben")
    await page.get_by_label("Flags").select_option(value="true")
    await page.get_by_role("button", name="Show visits").click()
    await expect(rows).to_have_count(3)
    await expect(page.locator("#visits-count")).to_have_text("3 visits")

    items = page.locator("#queue-list > li")
    await expect(items).to_have_count(5)
    first = items.first
    await expect(first.get_by_role("heading")).to_contain_text("Alice Adams")
    await expect(first).to_contain_text("score 50")
    await first.get_by_label("Review comment").fill("Spoke with Ana; safety plan agreed.")
    await first.get_by_role("button", name="Mark reviewed").click()
    await expect(items).to_have_count(4)
    await expect(items.first.get_by_role("heading")).to_contain_text("Bob Brown")

    # The declined-consent visit: open it from the queue, play from the second line by keyboard.
    erin = items.filter(has_text="Erin Egan")
    await erin.get_by_role("link", name="Open the visit").click()
    await expect(page.locator("#visit-title")).to_contain_text("Erin Egan")
    await expect(page.locator("#participants tbody tr")).to_have_count(2)
    await expect(page.locator("#consents tbody")).to_contain_text("declined")
    await expect(page.locator("#note")).to_contain_text("Signed by Ben")
    await expect(page.locator("#note")).to_contain_text("Client asked for a copy")
    await expect(page.locator("#note")).not_to_contain_text("null")
    lines = page.locator("#transcript li")
    await expect(lines).to_have_count(2)
    await lines.nth(1).get_by_role("button").focus()
    await page.keyboard.press("Enter")
    await expect(lines.nth(1)).to_have_class("current")
    await expect(lines.nth(1).get_by_role("button")).to_have_attribute("aria-current", "true")
    position = await page.locator("#player").evaluate("m => m.currentTime")
    assert 3.4 <= position <= 6.0
    await page.locator("#player").evaluate("m => m.pause()")
    await lines.first.get_by_role("button").click()
    await expect(lines.first).to_have_class("current")
    await expect(lines.nth(1)).not_to_have_class("current")

    await page.reload()
    await expect(page.locator("#audit tbody")).to_contain_text("Played a recording")
    await expect(page.locator("#audit tbody")).to_contain_text("Sup (supervisor)")

    bars = page.locator("#chart svg rect.bar")
    await expect(bars).to_have_count(3)
    assert await bars.nth(1).get_attribute("data-value") == "2"
    await page.get_by_label("Chart shows").select_option(value="no_show_rate")
    await expect(page.locator("#chart-caption")).to_contain_text("Team: 28.6%")
    await expect(page.locator("#metrics-table tbody tr.team-row")).to_contain_text("North")
    href = await page.get_by_role("link", name="Download these figures (CSV)").get_attribute("href")
    assert href is not None
    assert href.startswith("/api/team/metrics.csv?from=")


async def test_caseworker_is_told_the_page_is_for_supervisors(
    client: TestClient, browser: BrowserContext
) -> None:
    """A caseworker reaching the page sees why it is empty and no link to it in the nav."""
    team: Team = await build_team(client)
    page = await open_as(browser, client, team.caseworker)
    await expect(page.get_by_role("alert")).to_contain_text("for supervisors")
    nav = page.get_by_role("navigation", name="Staff pages")
    await expect(nav.get_by_role("link", name="Visit console")).to_be_visible()
    await expect(nav.get_by_role("link", name="Supervision")).to_have_count(0)
    await expect(page.locator("#queue")).to_be_hidden()
