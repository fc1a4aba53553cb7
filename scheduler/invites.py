"""RFC 5545 invites and calendar feeds, built with icalendar.

One booking is one VEVENT whose UID never changes; SEQUENCE is the booking's sequence (raised
by every move and by cancelling), so a calendar replaces its copy. Times are written in the
booking's zone with its VTIMEZONE, so a client's phone shows the time the caseworker meant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from visits.db import utcnow
from visits.models import Booking, BookingStatus

PRODUCT_ID = "-//Virtual Visits//Scheduler//EN"


@dataclass(frozen=True)
class InviteText:
    """What an event says, in its reader's language; no case details for clients."""

    summary: str
    description: str
    url: str = ""


def booking_uid(booking: Booking, base_url: str) -> str:
    return f"{booking.id}@{urlsplit(base_url).hostname or 'localhost'}"


def _event(booking: Booking, base_url: str, text: InviteText, organizer: tuple[str, str]) -> Event:
    zone = ZoneInfo(booking.time_zone)
    event = Event()
    event.add("uid", booking_uid(booking, base_url))
    event.add("dtstamp", utcnow())
    event.add("sequence", booking.sequence)
    event.add("dtstart", booking.start_at.astimezone(zone))
    event.add("dtend", booking.end_at.astimezone(zone))
    event.add("summary", text.summary)
    event.add("description", text.description)
    if text.url:
        event.add("url", text.url)
        event.add("location", text.url)
    name, address = organizer
    event.add("organizer", f"mailto:{address}", parameters={"CN": name})
    cancelled = booking.status is BookingStatus.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event


def _calendar(method: str | None, events: Iterable[Event], name: str = "") -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    last = date(2038, 1, 1)
    for event in events:
        calendar.add_component(event)
        last = max(last, event.decoded("dtend").date().replace(month=1, day=1))
    calendar.add_missing_timezones(last_date=last.replace(year=last.year + 1))
    return calendar


def invite(booking: Booking, base_url: str, text: InviteText, organizer: tuple[str, str]) -> bytes:
    """The booking as an iTIP message: REQUEST while it stands, CANCEL once cancelled."""
    method = "CANCEL" if booking.status is BookingStatus.CANCELLED else "REQUEST"
    return _calendar(method, [_event(booking, base_url, text, organizer)]).to_ical()


def feed(
    bookings: Iterable[tuple[Booking, InviteText]],
    base_url: str,
    organizer: tuple[str, str],
    name: str,
) -> bytes:
    """A subscribable calendar (no METHOD) of a caseworker's visits."""
    calendar = _calendar(
        None, (_event(booking, base_url, text, organizer) for booking, text in bookings), name
    )
    calendar.add("refresh-interval", timedelta(minutes=15), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT15M")
    return calendar.to_ical()
