"""The scheduler room: office hours, booking links, the client portal, invites and feeds,
reminder jobs and the notification outbox, plugged into the core app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import web

from scheduler.jobs import JobContext, scheduling
from scheduler.keys import JOBS
from scheduler.outbox import Sender, sending
from scheduler.routes import calendar, documents, office_hours, reminders, share_links, visits
from visits.events import BookingChanged
from visits.i18n import Translations
from visits.web.api import Api
from visits.web.app import static_page
from visits.web.keys import DATABASE, EVENTS, SETTINGS


def room(app: web.Application, api: Api) -> None:
    for register in (
        office_hours.register,
        share_links.register,
        visits.register,
        documents.register,
        calendar.register,
        reminders.register,
    ):
        register(api)
    app.router.add_get("/book/{token}", static_page("book.html"))
    app.router.add_get("/v/{token}", static_page("portal.html"))
    app.router.add_get("/office-hours", static_page("office-hours.html"))
    app.router.add_get("/calendar/{token}.ics", calendar.feed_file)

    async def booking_changed(event: BookingChanged) -> None:
        await app[JOBS].planner.sync(event.booking_id)

    app[EVENTS].subscribe(BookingChanged, booking_changed)
    app.cleanup_ctx.append(_resources)


async def _resources(app: web.Application) -> AsyncIterator[None]:
    """The outbox sender and the job scheduler, from start-up to clean-up."""
    settings, db = app[SETTINGS], app[DATABASE]
    async with aiohttp.ClientSession() as http:
        sender = Sender(db, settings, http)
        context = JobContext(db, settings, Translations.load(), sender)
        app[JOBS] = context
        async with (
            asynccontextmanager(sending)(sender),
            asynccontextmanager(scheduling)(context),
        ):
            yield
