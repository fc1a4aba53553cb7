"""Who did what is written down: sign-ins by every door (failed ones too) and reads of the
visit record, each with actor, role, object, source address, user agent and outcome."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from tests.records import office
from tests.world import ANONYMOUS, Persona, add_case, book, database
from visits.audit_verify import verify
from visits.models import AuditEvent
from visits.web.keys import SETTINGS

AGENT = {"User-Agent": "AuditTest/1.0"}


async def events(client: TestClient, action: str) -> list[AuditEvent]:
    async with database(client).transaction() as session:
        return list(
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


async def test_failed_and_successful_sign_ins_are_audited(client: TestClient) -> None:
    """A wrong password, a made-up join link and a wrong kiosk PIN are each a failed
    sign-in on record with the caller's address and user agent; the right PIN a success."""
    team = await office(client)
    case, person = await add_case(client, team.caseworker, "S-1", "Sam Client")
    booking = await book(client, team.caseworker, case, person)
    booking_id = booking["booking"]["id"]

    wrong = await client.post(
        "/api/session", json={"username": "cw_north", "password": "wrong"}, headers=AGENT
    )
    assert wrong.status == 401
    guessed = Persona("guesser", link_token="x" * 43)
    assert (await guessed.call(client, "GET", "/api/link/visit", headers=AGENT)).status == 401
    code = await (
        await team.caseworker.call(client, "POST", f"/api/bookings/{booking_id}/kiosk-code")
    ).json()
    wrong_pin = "000000" if code["pin"] != "000000" else "111111"
    for pin in (wrong_pin, code["pin"]):
        await ANONYMOUS.call(
            client,
            "POST",
            "/api/kiosk/sign-in",
            json={"code": code["code"], "pin": pin},
            headers=AGENT,
        )

    staff = [e for e in await events(client, "staff.sign_in") if e.outcome == "failure"]
    link = await events(client, "link.sign_in")
    kiosk = await events(client, "kiosk.sign_in")
    assert [e.actor_id for e in staff] == ["cw_north"]
    assert [e.outcome for e in link] == ["failure"]
    assert [(e.outcome, e.object_id) for e in kiosk] == [
        ("failure", booking_id),
        ("success", booking_id),
    ]
    for event in (*staff, *link, *kiosk):
        assert event.source_ip == "127.0.0.1"
        assert event.user_agent == "AuditTest/1.0"
    settings = client.server.app[SETTINGS]
    assert (await verify(database(client), settings.data_dir, None)).ok


async def test_reading_a_case_s_visits_is_audited(client: TestClient) -> None:
    """Listing a case's bookings and opening one leave events naming the reader."""
    team = await office(client)
    case, person = await add_case(client, team.caseworker, "S-2", "Sue Client")
    booking = await book(client, team.caseworker, case, person)
    listed = await team.supervisor.call(client, "GET", f"/api/cases/{case.id}/bookings")
    assert listed.status == 200
    opened = await team.supervisor.call(client, "GET", f"/api/bookings/{booking['booking']['id']}")
    assert opened.status == 200
    (listing,) = await events(client, "booking.list")
    assert (listing.actor_id, listing.actor_role, listing.object_id) == (
        str(team.supervisor.user_id),
        "supervisor",
        str(case.id),
    )
    assert listing.details == {"count": 1}
    views = await events(client, "booking.view")
    assert [v.object_id for v in views] == [booking["booking"]["id"]]
