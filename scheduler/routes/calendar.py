"""A caseworker's private calendar feed: a secret URL Outlook or Google Calendar subscribes to.

The URL carries its own token (only the hash is stored); a new URL revokes the old one, and
it can be revoked outright. The feed names visits by case number only, never by client.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from aiohttp import web
from pydantic import BaseModel, Field
from sqlalchemy import select, update

from scheduler.invites import feed
from scheduler.messages import staff_invite_text
from scheduler.models import CalendarFeed
from visits import audit
from visits.access import Audience
from visits.db import Database, utcnow
from visits.models import Booking, BookingStatus, Case, StaffUser
from visits.security import new_token, token_hash
from visits.web.api import Api, Call, actor_of
from visits.web.keys import AUTHENTICATOR, DATABASE, SETTINGS

FEED_PAST = timedelta(days=30)
FEED_STATUSES = (BookingStatus.SCHEDULED, BookingStatus.IN_PROGRESS, BookingStatus.CANCELLED)


class FeedOut(BaseModel):
    url: str = Field(description="Shown only in this answer; subscribe to it in a calendar.")
    created_at: datetime


async def _revoke(session, caseworker_id) -> int:  # type: ignore[no-untyped-def]
    result = await session.execute(
        update(CalendarFeed)
        .where(CalendarFeed.caseworker_id == caseworker_id, CalendarFeed.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount)


async def new_feed(call: Call[None, None]) -> FeedOut:
    token = new_token()
    async with call.db.transaction() as session:
        await _revoke(session, call.staff.user_id)
        item = CalendarFeed(token_hash=token_hash(token), caseworker_id=call.staff.user_id)
        session.add(item)
        await session.flush()
        await audit.append(session, call.actor, "calendar_feed.create", "calendar_feed", item.id)
    return FeedOut(url=f"{call.settings.base_url}/calendar/{token}.ics", created_at=item.created_at)


async def revoke_feed(call: Call[None, None]) -> None:
    async with call.db.transaction() as session:
        if await _revoke(session, call.staff.user_id):
            await audit.append(
                session, call.actor, "calendar_feed.revoke", "staff_user", call.staff.user_id
            )


async def feed_file(request: web.Request) -> web.StreamResponse:
    """GET /calendar/{token}.ics: the caseworker's visits from 30 days ago on."""
    token = request.match_info["token"]
    db: Database = request.app[DATABASE]
    settings = request.app[SETTINGS]
    guesses = request.app[AUTHENTICATOR].link_guesses
    address = request.remote or ""
    async with db.transaction() as session:
        await guesses.check(session, address)
        item = await session.scalar(
            select(CalendarFeed).where(
                CalendarFeed.token_hash == token_hash(token), CalendarFeed.revoked_at.is_(None)
            )
        )
        if item is None:
            await guesses.failed(session, address)
            await audit.append(
                session,
                actor_of(request, None),
                "calendar_feed.read",
                "calendar_feed",
                outcome="failure",
            )
        else:
            caseworker = await session.get(StaffUser, item.caseworker_id)
            rows = list(
                await session.execute(
                    select(Booking, Case.case_number)
                    .join(Case, Case.id == Booking.case_id)
                    .where(
                        Booking.caseworker_id == item.caseworker_id,
                        Booking.status.in_(FEED_STATUSES),
                        Booking.end_at > utcnow() - FEED_PAST,
                    )
                    .order_by(Booking.start_at)
                )
            )
            await audit.append(
                session,
                actor_of(request, None),
                "calendar_feed.read",
                "calendar_feed",
                item.id,
                details={"visits": len(rows)},
            )
    if item is None or caseworker is None:
        raise web.HTTPNotFound(text="No such calendar.", content_type="text/plain")
    page = settings.base_url + "/"
    body = feed(
        ((booking, staff_invite_text(number, page)) for booking, number in rows),
        settings.base_url,
        (caseworker.display_name, settings.mail_from),
        name=f"Virtual visits - {caseworker.display_name}",
    )
    return web.Response(
        body=body,
        content_type="text/calendar",
        charset="utf-8",
        headers={"Cache-Control": "no-store"},
    )


def register(api: Api) -> None:
    route = api.route
    route(
        "POST",
        "/api/calendar-feed",
        summary="A new private calendar feed URL for me (the previous one stops working)",
        audience=Audience.CASEWORKER,
        response=FeedOut,
        status=201,
        tag="scheduling",
    )(new_feed)
    route(
        "DELETE",
        "/api/calendar-feed",
        summary="Stop my calendar feed",
        audience=Audience.CASEWORKER,
        tag="scheduling",
    )(revoke_feed)
