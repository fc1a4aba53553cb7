"""Clients book from a link a caseworker shares: no account, no email, one booking per slot."""

from __future__ import annotations

import asyncio
from datetime import datetime

import recurring_ical_events
from aiohttp.test_utils import TestClient
from icalendar import Calendar
from sqlalchemy import func, select

from scheduler.models import ShareLink
from tests.scheduling import add_office_hours, add_share_link, days_ahead
from tests.world import Persona, add_case, add_team, database, staff_persona
from visits.models import Booking, Case, Client, StaffRole


async def caseworker(client: TestClient) -> Persona:
    team = await add_team(client, "North")
    worker = await staff_persona(client, "casey", StaffRole.CASEWORKER, team)
    await add_office_hours(client, worker, "America/Chicago")
    return worker


def booking_headers(token: str) -> dict[str, str]:
    return {"X-Booking-Token": token}


async def test_fifty_clients_racing_for_one_slot_get_one_booking(client: TestClient) -> None:
    """50 simultaneous bookings of one slot: exactly one succeeds, 49 hear it was just taken."""
    worker = await caseworker(client)
    _, token = await add_share_link(client, worker)
    slot = days_ahead(3, 15).isoformat()

    async def attempt(index: int) -> tuple[int, dict[str, str]]:
        response = await client.post(
            "/api/book",
            json={"start_at": slot, "full_name": f"Person {index}", "phone": "+1 555 0199"},
            headers=booking_headers(token),
        )
        return response.status, await response.json()

    answers = await asyncio.gather(*(attempt(i) for i in range(50)))
    assert sorted(status for status, _ in answers) == [201] + [409] * 49
    assert all("just taken" in body["message"] for status, body in answers if status == 409)
    async with database(client).transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Booking)) == 1
        # The losers' intake cases and client records were rolled back with their bookings.
        assert await session.scalar(select(func.count()).select_from(Case)) == 1
        assert await session.scalar(select(func.count()).select_from(Client)) == 1


async def test_client_books_from_case_link_and_gets_visit_link_and_invite(
    client: TestClient,
) -> None:
    """A per-case link shows open slots; booking one answers a working visit link and an .ics."""
    worker = await caseworker(client)
    case, person = await add_case(client, worker, "N-7", "Alice Alpha")
    response = await worker.call(
        client, "POST", f"/api/cases/{case.id}/share-links", json={"client_id": str(person.id)}
    )
    assert response.status == 201
    token = (await response.json())["url"].rsplit("/", 1)[1]
    page = await client.get("/api/book", headers=booking_headers(token))
    offer = await page.json()
    assert offer["needs_name"] is False
    assert offer["caseworker_name"] == "Casey"
    assert offer["time_zone"] == "America/Chicago"
    assert "Alice" not in await page.text()
    assert "N-7" not in await page.text()
    chosen = offer["slots"]["slots"][5]
    booked = await client.post(
        "/api/book", json={"start_at": chosen["start_at"]}, headers=booking_headers(token)
    )
    assert booked.status == 201, await booked.text()
    result = await booked.json()
    visit = Persona("client", link_token=result["visit_url"].rsplit("/", 1)[1])
    mine = await (await visit.call(client, "GET", "/api/link/visit")).json()
    assert mine["booking_id"] == result["booking_id"]
    assert mine["can_change"] is True
    calendar = Calendar.from_ical(result["ics"])
    assert calendar["METHOD"] == "REQUEST"
    (event,) = recurring_ical_events.of(calendar).between(days_ahead(-1), days_ahead(30))
    assert event["DTSTART"].dt == datetime.fromisoformat(chosen["start_at"])
    assert str(event["DTSTART"].dt.tzinfo) == "America/Chicago"
    assert result["visit_url"] in str(event["DESCRIPTION"])
    again = await (await client.get("/api/book", headers=booking_headers(token))).json()
    assert chosen["start_at"] not in [slot["start_at"] for slot in again["slots"]["slots"]]


async def test_general_link_opens_an_intake_case_the_caseworker_sees(client: TestClient) -> None:
    """Someone not yet known books with a name only; the caseworker finds a new intake case."""
    worker = await caseworker(client)
    response = await worker.call(client, "POST", "/api/share-links", json={"label": "Flyer"})
    token = (await response.json())["url"].rsplit("/", 1)[1]
    missing = await client.post(
        "/api/book",
        json={"start_at": days_ahead(2, 16).isoformat()},
        headers=booking_headers(token),
    )
    assert missing.status == 400
    assert "name" in (await missing.json())["message"]
    booked = await client.post(
        "/api/book",
        json={"start_at": days_ahead(2, 16).isoformat(), "full_name": "Dana Doe", "language": "es"},
        headers=booking_headers(token),
    )
    assert booked.status == 201, await booked.text()
    cases = await (await worker.call(client, "GET", "/api/cases?q=Dana")).json()
    assert len(cases) == 1
    assert cases[0]["case_number"].startswith("IN-")
    detail = await (await worker.call(client, "GET", f"/api/cases/{cases[0]['id']}")).json()
    assert detail["clients"][0]["preferred_language"] == "es"


async def test_bad_revoked_and_off_hours_bookings_are_refused_clearly(client: TestClient) -> None:
    """Unknown links get 401, revoked ones 410, a time outside office hours 409; none books."""
    worker = await caseworker(client)
    link_id, token = await add_share_link(client, worker)
    unknown = await client.get("/api/book", headers=booking_headers("not-a-real-token"))
    assert unknown.status == 401
    assert "not valid" in (await unknown.json())["message"]
    off_grid = await client.post(
        "/api/book",
        json={"start_at": days_ahead(2, 16, 10).isoformat(), "full_name": "Ed"},
        headers=booking_headers(token),
    )
    assert off_grid.status == 409
    revoked = await worker.call(client, "DELETE", f"/api/share-links/{link_id}")
    assert revoked.status == 204
    gone = await client.post(
        "/api/book",
        json={"start_at": days_ahead(2, 16).isoformat(), "full_name": "Ed"},
        headers=booking_headers(token),
    )
    assert gone.status == 410
    assert "no longer in use" in (await gone.json())["message"]
    async with database(client).transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Booking)) == 0
        assert (await session.get(ShareLink, link_id)).revoked_at is not None


async def test_booking_and_visit_pages_are_served_with_no_referrer(client: TestClient) -> None:
    """/book/{token} and /v/{token} answer their HTML pages and never leak the link onward."""
    for path, script in (("/book/abc", "/static/js/book.js"), ("/v/abc", "/static/js/portal.js")):
        response = await client.get(path)
        assert response.status == 200
        assert script in await response.text()
        assert response.headers["Referrer-Policy"] == "no-referrer"
