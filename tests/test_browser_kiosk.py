"""The shared kiosk in Chromium: visit code + PIN, a clear message for a wrong PIN, a visit in
the language chosen at the kiosk, and afterwards a start screen with nothing of the visit left."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient
from playwright.async_api import expect
from sqlalchemy import select

from tests.browser import ONE_ENGINE, PageLog, chromium, screenshot
from tests.live import eventually, live_booking
from tests.world import database
from visits.models import Booking, BookingStatus, Consent

pytestmark = [pytest.mark.slow, pytest.mark.browser, ONE_ENGINE]


async def test_kiosk_visit_by_code_and_pin_leaves_nothing_behind(site: TestClient) -> None:
    """A wrong PIN is refused in plain words (in the chosen language); the right one leads
    through the visit in Spanish; when it ends the kiosk returns by itself to an English start
    screen, with no token in storage, the address or the page, none usable any more, and no
    way back into the visit."""
    visit = await live_booking(site)
    issued = await visit.caseworker.call(
        site, "POST", f"/api/bookings/{visit.booking_id}/kiosk-code"
    )
    assert issued.status == 201
    code = await issued.json()
    wrong_pin = "000000" if code["pin"] != "000000" else "111111"
    caseworker = visit.staff()
    await caseworker.join()
    await caseworker.consent("accepted")

    log = PageLog()
    async with chromium() as browser:
        page = log.watch(await browser.new_page())
        await page.goto(f"{visit.base_url()}/kiosk")
        await expect(page.get_by_role("heading", name="Join your visit")).to_be_visible()
        await screenshot(page, "kiosk-start")

        # Too short: said at once, without asking the server.
        await page.get_by_label("Visit code (6 digits)").fill(code["code"])
        await page.get_by_label("PIN (6 digits)").fill("12")
        await page.get_by_role("button", name="Join").click()
        await expect(page.get_by_role("alert")).to_have_text(
            "Please type the 6-digit visit code and the 6-digit PIN."
        )
        await page.get_by_label("PIN (6 digits)").fill(wrong_pin)
        await page.get_by_role("button", name="Join").click()
        await expect(page.get_by_role("alert")).to_have_text(
            "That code and PIN do not match a visit. Please check them and try again."
        )
        await expect(page.get_by_label("PIN (6 digits)")).to_have_value("")
        await expect(page.get_by_label("PIN (6 digits)")).to_be_focused()

        # The same in Spanish, then the right PIN.
        await page.get_by_label("Language").select_option(label="Español")
        await expect(page.get_by_role("heading", name="Entre a su visita")).to_be_visible()
        await page.get_by_label("PIN (6 dígitos)").fill(wrong_pin)
        await page.get_by_role("button", name="Entrar").click()
        await expect(page.get_by_role("alert")).to_have_text(
            "Ese código y PIN no coinciden con una visita. Revíselos e intente de nuevo."
        )
        await page.get_by_label("PIN (6 dígitos)").fill(code["pin"])
        async with page.expect_response("**/api/kiosk/sign-in") as answered:
            await page.get_by_role("button", name="Entrar").click()
        token = (await (await answered.value).json())["token"]

        await expect(page.get_by_text("Conexión: buena ✓")).to_be_visible()
        await page.get_by_role("button", name="Continuar").click()
        await page.get_by_role("button", name="Sí, acepto la grabación").click()
        await expect(page.get_by_role("heading", name="Por favor, espere")).to_be_visible()
        await screenshot(page, "kiosk-lobby-es")
        waiting = await caseworker.waiting()
        await caseworker.send(type="admit", participant_id=waiting[0]["participant_id"])
        await caseworker.connect_media(None)
        await expect(page.locator("#recording-badge")).to_have_text("Grabando")
        await caseworker.send(type="end")

        await expect(page.get_by_role("heading", name="La visita ha terminado")).to_be_visible()
        await expect(page.get_by_text("Esta pantalla se borrará")).to_be_visible()
        # Back to a fresh start screen by itself, in the kiosk's own language.
        await expect(page.get_by_role("heading", name="Join your visit")).to_be_visible()
        await expect(page.get_by_label("Visit code (6 digits)")).to_have_value("")
        assert page.url == f"{visit.base_url()}/kiosk"
        stored = await page.evaluate(
            "() => JSON.stringify([{...localStorage}, {...sessionStorage}, document.cookie])"
        )
        assert stored == '[{},{},""]'
        assert token not in await page.content()

        # The kiosk has one history entry; leaving it and coming back shows the start screen.
        await page.go_back()
        assert not page.url.endswith("/kiosk")
        await page.go_forward()
        await expect(page.get_by_role("heading", name="Join your visit")).to_be_visible()
        await expect(page.locator("#step-check")).to_have_count(0)
        assert log.errors == [], log.console
        assert log.failed_requests == [
            f"401 {visit.base_url()}/api/kiosk/sign-in",
            f"401 {visit.base_url()}/api/kiosk/sign-in",
        ]
    await caseworker.close()

    # The token the kiosk held is of no use any more.
    again = visit.by_link(token)
    await again.connect()
    await again.send(type="hello", token=token)
    refused = await again.expect("error")
    assert refused["code"] == "not_signed_in"
    await again.close()

    async def completed() -> bool:
        async with database(site).transaction() as session:
            booking = await session.get(Booking, visit.booking_id)
        return booking is not None and booking.status is BookingStatus.COMPLETED

    await eventually(completed)
    async with database(site).transaction() as session:
        consents = {c.participant_role: c.language for c in await session.scalars(select(Consent))}
    assert consents == {"caseworker": "en", "client": "es"}
