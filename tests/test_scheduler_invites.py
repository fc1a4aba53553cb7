"""Invites and the caseworker's feed read right in an independent iCalendar reader."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import recurring_ical_events
from aiohttp.test_utils import TestClient
from icalendar import Calendar

from tests.scheduling import add_office_hours
from tests.world import add_case, add_team, staff_persona
from visits.models import StaffRole

LOS_ANGELES = ZoneInfo("America/Los_Angeles")


async def test_invites_and_feed_keep_wall_time_across_the_spring_change(
    client: TestClient,
) -> None:
    """Visits at 09:00 Los Angeles before and after DST read as 09:00 local, 17:00/16:00 UTC."""
    team = await add_team(client, "West")
    worker = await staff_persona(client, "casey", StaffRole.CASEWORKER, team)
    await add_office_hours(client, worker, "America/Los_Angeles")
    case, person = await add_case(client, worker, "W-1", "Alice Alpha")
    feed = await (await worker.call(client, "POST", "/api/calendar-feed")).json()
    this_year = datetime.now(UTC).year + 1
    before, after = date(this_year, 3, 1), date(this_year, 3, 20)
    invites = []
    for day in (before, after):
        start = datetime(day.year, day.month, day.day, 9, tzinfo=LOS_ANGELES)
        booked = await worker.call(
            client,
            "POST",
            f"/api/cases/{case.id}/bookings",
            json={
                "client_id": str(person.id),
                "start_at": start.isoformat(),
                "end_at": (start + timedelta(minutes=30)).isoformat(),
                "time_zone": "America/Los_Angeles",
            },
        )
        booking_id = (await booked.json())["booking"]["id"]
        ics = await worker.call(client, "GET", f"/api/bookings/{booking_id}/invite.ics")
        assert ics.content_type == "text/calendar"
        invites.append(Calendar.from_ical(await ics.read()))
    for calendar, day, utc_hour in zip(invites, (before, after), (17, 16), strict=True):
        assert calendar["METHOD"] == "REQUEST"
        (event,) = recurring_ical_events.of(calendar).at(day)
        start = event["DTSTART"].dt
        assert (start.hour, start.minute) == (9, 0)
        assert start.astimezone(UTC).hour == utc_hour
        assert "W-1" in str(event["SUMMARY"])
        assert "Alice" not in calendar.to_ical().decode()
    response = await client.get(urlsplit(feed["url"]).path)
    assert response.status == 200
    subscribed = Calendar.from_ical(await response.read())
    events = recurring_ical_events.of(subscribed).between(before, after + timedelta(days=1))
    assert [e["DTSTART"].dt.astimezone(UTC).hour for e in events] == [17, 16]
    assert {str(e["UID"]) for e in events} == {str(c.walk("VEVENT")[0]["UID"]) for c in invites}


async def test_a_new_feed_url_revokes_the_old_one(client: TestClient) -> None:
    """Each caseworker has one private feed; replacing or stopping it ends the old URL."""
    team = await add_team(client, "West")
    worker = await staff_persona(client, "casey", StaffRole.CASEWORKER, team)
    first = (await (await worker.call(client, "POST", "/api/calendar-feed")).json())["url"]
    second = (await (await worker.call(client, "POST", "/api/calendar-feed")).json())["url"]
    assert (await client.get(urlsplit(first).path)).status == 404
    assert (await client.get(urlsplit(second).path)).status == 200
    await worker.call(client, "DELETE", "/api/calendar-feed")
    assert (await client.get(urlsplit(second).path)).status == 404
