"""The client's own link: see the visit, move it, cancel it, until the cut-off; staff too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestClient
from icalendar import Calendar

from scheduler.jobs import reminder_job_id
from scheduler.keys import JOBS
from tests.scheduling import add_office_hours, days_ahead
from tests.world import Persona, add_case, add_team, book, link_persona, staff_persona
from visits.models import StaffRole


async def visit_world(client: TestClient, start: datetime) -> tuple[Persona, Persona, dict]:
    team = await add_team(client, "North")
    worker = await staff_persona(client, "casey", StaffRole.CASEWORKER, team)
    await add_office_hours(client, worker)
    case, person = await add_case(client, worker, "N-1", "Alice Alpha")
    booking = await book(client, worker, case, person, start)
    return worker, link_persona("client", booking), booking


def zulu(moment: datetime) -> str:
    """How the API writes a UTC time."""
    return moment.isoformat().replace("+00:00", "Z")


def scheduled_reminder(client: TestClient, booking_id: str, minutes: int) -> datetime | None:
    scheduler = client.server.app[JOBS].planner.scheduler
    assert scheduler is not None
    job = scheduler.get_job(reminder_job_id(booking_id, minutes))
    return None if job is None else job.next_run_time


async def test_client_moves_their_visit_and_keeps_their_link(client: TestClient) -> None:
    """Moving to another open slot keeps the link, raises SEQUENCE and moves the reminders."""
    _, visitor, booking = await visit_world(client, days_ahead(3, 9))
    booking_id = booking["booking"]["id"]
    assert scheduled_reminder(client, booking_id, 15) == days_ahead(3, 8, 45)
    slots = await (await visitor.call(client, "GET", "/api/link/slots")).json()
    assert zulu(days_ahead(3, 9)) in [s["start_at"] for s in slots["slots"]]  # its own
    moved = await visitor.call(
        client, "POST", "/api/link/reschedule", json={"start_at": days_ahead(4, 11).isoformat()}
    )
    assert moved.status == 200, await moved.text()
    visit = await moved.json()
    assert visit["start_at"] == zulu(days_ahead(4, 11))
    assert visit["join_path"] == f"/v/{visitor.link_token}/join"
    ics = await visitor.call(client, "GET", "/api/link/invite.ics")
    event = Calendar.from_ical(await ics.read()).walk("VEVENT")[0]
    assert event["SEQUENCE"] == 1
    assert event["UID"].startswith(booking_id)
    assert scheduled_reminder(client, booking_id, 15) == days_ahead(4, 10, 45)
    assert scheduled_reminder(client, booking_id, 1440) == days_ahead(3, 11)


async def test_client_cancels_and_the_invite_becomes_a_cancel(client: TestClient) -> None:
    """Cancelling from the link frees the slot, removes reminders, sends METHOD:CANCEL."""
    _, visitor, booking = await visit_world(client, days_ahead(3, 9))
    cancelled = await visitor.call(client, "POST", "/api/link/cancel")
    assert cancelled.status == 200
    assert (await cancelled.json())["status"] == "cancelled"
    calendar = Calendar.from_ical(
        await (await visitor.call(client, "GET", "/api/link/invite.ics")).read()
    )
    assert calendar["METHOD"] == "CANCEL"
    assert calendar.walk("VEVENT")[0]["SEQUENCE"] == 1
    assert scheduled_reminder(client, booking["booking"]["id"], 15) is None
    again = await visitor.call(client, "POST", "/api/link/cancel")
    assert again.status == 409


async def test_changes_close_at_the_cut_off_before_the_start(client: TestClient) -> None:
    """Within two hours of the start the client is told to contact their caseworker."""
    soon = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=90)
    _, visitor, _ = await visit_world(client, soon)
    visit = await (await visitor.call(client, "GET", "/api/link/visit")).json()
    assert visit["can_change"] is False
    refused = await visitor.call(client, "POST", "/api/link/cancel")
    assert refused.status == 409
    assert "contact your caseworker" in (await refused.json())["message"]


async def test_guest_links_only_join(client: TestClient) -> None:
    """An interpreter's link sees the visit but cannot move or cancel it."""
    worker, _, booking = await visit_world(client, days_ahead(3, 9))
    issued = await worker.call(
        client,
        "POST",
        f"/api/bookings/{booking['booking']['id']}/links",
        json={"role": "interpreter", "display_name": "Ana"},
    )
    guest = Persona("guest", link_token=(await issued.json())["url"].rsplit("/", 1)[1])
    seen = await (await guest.call(client, "GET", "/api/link/visit")).json()
    assert seen["can_change"] is False
    assert seen["document_requests"] == []
    refused = await guest.call(client, "POST", "/api/link/cancel")
    assert refused.status == 403


async def test_caseworker_moves_cancels_and_starts_visits_now(client: TestClient) -> None:
    """Staff move outside office hours, cancel, and start an on-demand visit with a link."""
    worker, visitor, booking = await visit_world(client, days_ahead(3, 9))
    path = f"/api/bookings/{booking['booking']['id']}"
    moved = await worker.call(
        client, "PATCH", path, json={"start_at": days_ahead(3, 23, 45).isoformat()}
    )
    assert moved.status == 200, await moved.text()
    assert (await moved.json())["sequence"] == 1
    assert (await visitor.call(client, "GET", "/api/link/visit")).status == 200
    now = await worker.call(
        client,
        "POST",
        f"/api/cases/{booking['booking']['case_id']}/visits-now",
        json={"client_id": booking["booking"]["client_id"], "minutes": 20},
    )
    assert now.status == 201, await now.text()
    started = await now.json()
    assert started["booking"]["kind"] == "on_demand"
    assert "/v/" in started["client_link"]["url"]
    cancelled = await worker.call(client, "POST", f"{path}/cancel")
    assert (await cancelled.json())["status"] == "cancelled"
