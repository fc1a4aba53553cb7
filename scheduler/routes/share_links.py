"""Self-service booking links a caseworker shares, and booking through them (no account).

Two kinds: a per-case link ("book your next visit", bound to one case and client) and a
general office-hours link for people not yet known, which opens an intake case for the
caseworker. The token travels in the `X-Booking-Token` header, never in an API path; the page
that uses it is /book/{token}. Only the token's hash is stored; links are revocable.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select

from scheduler.availability import open_slots, take_open_slot
from scheduler.invites import invite
from scheduler.keys import JOBS
from scheduler.messages import client_invite_text
from scheduler.models import ShareLink, ShareLinkKind
from scheduler.routes.office_hours import SlotsOut, slots_out
from visits import audit
from visits.access import Audience, case_for, caseworker_scope, may_change_case
from visits.bookings import check_client_of_case, create_booking
from visits.db import utcnow
from visits.errors import Forbidden, Gone, InvalidInput, NotFound, NotSignedIn
from visits.models import BookingKind, Case, CaseStatus, Client, StaffRole, StaffUser
from visits.security import new_token, token_hash
from visits.web.api import Api, Call
from visits.web.keys import AUTHENTICATOR
from visits.web.schemas import LanguageTag, Name, Out, Phone

TOKEN_HEADER = "X-Booking-Token"
_CASE_NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class CaseShareLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: uuid.UUID
    label: Annotated[str, Field(max_length=200)] = ""


class GeneralShareLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Annotated[str, Field(max_length=200)] = ""


class ShareLinkOut(Out):
    id: uuid.UUID
    kind: ShareLinkKind
    caseworker_id: uuid.UUID
    case_id: uuid.UUID | None
    client_id: uuid.UUID | None
    label: str
    created_at: datetime
    revoked_at: datetime | None


class IssuedShareLink(ShareLinkOut):
    url: str = Field(description="Shown only in this answer: send it to the client.")


class BookingPage(BaseModel):
    """What a booking link shows: whom, in which zone, which slots. Nothing about the case."""

    kind: ShareLinkKind
    caseworker_name: str
    language: str
    needs_name: bool
    time_zone: str
    slot_minutes: int
    slots: SlotsOut


class SelfBookingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_at: AwareDatetime
    full_name: Name | None = Field(None, description="Needed on a general link.")
    phone: Phone | None = Field(None, description="For reminders by text message; optional.")
    language: LanguageTag | None = None


class SelfBookingOut(BaseModel):
    booking_id: uuid.UUID
    start_at: datetime
    end_at: datetime
    time_zone: str
    caseworker_name: str
    visit_url: str = Field(description="The client's own link: see, join, move or cancel.")
    ics: str = Field(description="The invite (iCalendar), to add to a calendar.")


def _issued(link: ShareLink, token: str, base_url: str) -> IssuedShareLink:
    return IssuedShareLink.model_validate(
        {**ShareLinkOut.model_validate(link).model_dump(), "url": f"{base_url}/book/{token}"}
    )


async def _new_link(call: Call[Any, None], **values: Any) -> IssuedShareLink:
    token = new_token()
    async with call.db.transaction() as session:
        link = ShareLink(token_hash=token_hash(token), created_by_id=call.staff.user_id, **values)
        session.add(link)
        await session.flush()
        await audit.append(
            session,
            call.actor,
            "share_link.create",
            "share_link",
            link.id,
            details={"kind": link.kind.value},
        )
    return _issued(link, token, call.settings.base_url)


async def create_case_link(call: Call[CaseShareLinkIn, None]) -> IssuedShareLink:
    async with call.db.transaction() as session:
        case = await case_for(session, call.principal, call.ids["case_id"])
        if not may_change_case(call.principal, case):
            raise Forbidden("Only the assigned caseworker or a supervisor may share this case.")
        await check_client_of_case(session, case, call.body.client_id)
    return await _new_link(
        call,
        kind=ShareLinkKind.CASE,
        caseworker_id=case.caseworker_id,
        case_id=case.id,
        client_id=call.body.client_id,
        label=call.body.label,
    )


async def create_general_link(call: Call[GeneralShareLinkIn, None]) -> IssuedShareLink:
    return await _new_link(
        call, kind=ShareLinkKind.GENERAL, caseworker_id=call.staff.user_id, label=call.body.label
    )


async def list_links(call: Call[None, None]) -> list[ShareLinkOut]:
    async with call.db.transaction() as session:
        links = await session.scalars(
            select(ShareLink)
            .where(
                ShareLink.caseworker_id.in_(
                    select(StaffUser.id).where(caseworker_scope(call.principal))
                ),
                ShareLink.revoked_at.is_(None),
            )
            .order_by(ShareLink.created_at.desc())
            .limit(500)
        )
        return [ShareLinkOut.model_validate(link) for link in links]


async def revoke_link(call: Call[None, None]) -> None:
    async with call.db.transaction() as session:
        link = await session.scalar(
            select(ShareLink).where(
                ShareLink.id == call.ids["link_id"],
                ShareLink.caseworker_id.in_(
                    select(StaffUser.id).where(caseworker_scope(call.principal))
                ),
            )
        )
        if link is None:
            raise NotFound(f"No booking link {call.ids['link_id']} that you manage.")
        if link.revoked_at is None:
            link.revoked_at = utcnow()
            await audit.append(session, call.actor, "share_link.revoke", "share_link", link.id)


# Booking through a link (anyone holding it) ---------------------------------------------


async def _resolve(call: Call[Any, None]) -> uuid.UUID:
    """The id of the link whose token the caller sent. Unknown tokens count as failed
    attempts per address (committed), like bad join links, so guessing is throttled."""
    token = call.request.headers.get(TOKEN_HEADER, "").strip()
    guesses = call.request.app[AUTHENTICATOR].link_guesses
    address = call.request.remote or ""
    async with call.db.transaction() as session:
        await guesses.check(session, address)
        link_id = await session.scalar(
            select(ShareLink.id).where(ShareLink.token_hash == token_hash(token))
        )
        if link_id is None:
            await guesses.failed(session, address)
            await audit.append(
                session, call.actor, "share_link.sign_in", "share_link", outcome="failure"
            )
    if link_id is None:
        raise NotSignedIn(
            "This booking link is not valid. Please ask your caseworker for a new one."
        )
    return link_id


async def _usable_link(session: Any, link_id: uuid.UUID) -> ShareLink:
    """The link, if it may still be used: not revoked, caseworker active, case open."""
    link = await session.get(ShareLink, link_id)
    if link is None or link.revoked_at is not None:
        raise Gone(
            "This booking link is no longer in use. Please ask your caseworker for a new one."
        )
    caseworker = await session.get(StaffUser, link.caseworker_id)
    if caseworker is None or not caseworker.active or caseworker.role is not StaffRole.CASEWORKER:
        raise Gone("This caseworker is not taking bookings. Please contact the office.")
    if link.case_id is not None:
        case = await session.get(Case, link.case_id)
        if case is None or case.status is not CaseStatus.OPEN:
            raise Gone("This booking link is no longer in use. Please contact your caseworker.")
    return link


async def booking_page(call: Call[None, None]) -> BookingPage:
    link_id = await _resolve(call)
    async with call.db.transaction() as session:
        link = await _usable_link(session, link_id)
        caseworker = await session.get(StaffUser, link.caseworker_id)
        client = await session.get(Client, link.client_id) if link.client_id else None
        office, _, slots = await open_slots(session, link.caseworker_id)
    assert caseworker is not None
    return BookingPage(
        kind=link.kind,
        caseworker_name=caseworker.display_name,
        language=client.preferred_language if client else "en",
        needs_name=link.kind is ShareLinkKind.GENERAL,
        time_zone=office.time_zone,
        slot_minutes=office.slot_minutes,
        slots=slots_out(office.time_zone, office.slot_minutes, slots),
    )


def _intake_number() -> str:
    suffix = "".join(secrets.choice(_CASE_NUMBER_ALPHABET) for _ in range(6))
    return f"IN-{utcnow():%y%m%d}-{suffix}"


async def book_through_link(call: Call[SelfBookingIn, None]) -> SelfBookingOut:
    body = call.body
    settings = call.settings
    link_id = await _resolve(call)
    async with call.db.transaction() as session:
        link = await _usable_link(session, link_id)
        office, slot = await take_open_slot(session, link.caseworker_id, body.start_at)
        caseworker = await session.get(StaffUser, link.caseworker_id)
        assert caseworker is not None
        assert caseworker.team_id is not None
        if link.kind is ShareLinkKind.GENERAL:
            if body.full_name is None:
                raise InvalidInput("body.full_name: please give your name.")
            client = Client(
                team_id=caseworker.team_id,
                full_name=body.full_name,
                phone=body.phone,
                preferred_language=body.language or "en",
            )
            case = Case(
                case_number=_intake_number(),
                title="Intake: booked from office hours",
                caseworker_id=caseworker.id,
            )
            case.clients = [client]
            session.add(case)
            await session.flush()
            await audit.append(
                session, call.actor, "case.create", "case", case.id, details={"via": "share_link"}
            )
        else:
            case = await session.get(Case, link.case_id)
            client = await session.get(Client, link.client_id)
            assert case is not None
            assert client is not None
            # A forwarded link must not redirect texts: a phone is only added, never replaced.
            if body.phone and not client.phone:
                client.phone = body.phone
        booking, issued = await create_booking(
            session,
            case=case,
            client_id=client.id,
            start_at=slot.start,
            end_at=slot.end,
            time_zone=office.time_zone,
            purpose="",
            kind=BookingKind.SCHEDULED,
            created_by_id=None,
            client_display_name=client.full_name,
            link_valid_days=settings.client_token_days,
        )
        await audit.append(
            session,
            call.actor,
            "booking.create",
            "booking",
            booking.id,
            details={"via": "share_link", "share_link_id": str(link.id)},
        )
        language = client.preferred_language
    await call.request.app[JOBS].planner.sync(booking.id)
    visit_url = settings.base_url + issued.path()
    translations = call.request.app[JOBS].translations
    ics = invite(
        booking,
        settings.base_url,
        client_invite_text(translations, language, visit_url),
        (caseworker.display_name, settings.mail_from),
    )
    return SelfBookingOut(
        booking_id=booking.id,
        start_at=booking.start_at,
        end_at=booking.end_at,
        time_zone=booking.time_zone,
        caseworker_name=caseworker.display_name,
        visit_url=visit_url,
        ics=ics.decode(),
    )


def register(api: Api) -> None:
    route = api.route
    route(
        "POST",
        "/api/cases/{case_id}/share-links",
        summary="A 'book your next visit' link for one client of the case",
        audience=Audience.CASE_STAFF,
        body=CaseShareLinkIn,
        response=IssuedShareLink,
        status=201,
        tag="scheduling",
    )(create_case_link)
    route(
        "POST",
        "/api/share-links",
        summary="A general office-hours link: whoever books gets an intake case with me",
        audience=Audience.CASEWORKER,
        body=GeneralShareLinkIn,
        response=IssuedShareLink,
        status=201,
        tag="scheduling",
    )(create_general_link)
    route(
        "GET",
        "/api/share-links",
        summary="Booking links in use (a caseworker's own; a supervisor's team's)",
        audience=Audience.CASE_STAFF,
        response=list[ShareLinkOut],
        tag="scheduling",
    )(list_links)
    route(
        "DELETE",
        "/api/share-links/{link_id}",
        summary="Revoke a booking link",
        audience=Audience.CASE_STAFF,
        tag="scheduling",
    )(revoke_link)
    route(
        "GET",
        "/api/book",
        summary="What a booking link offers (token in the X-Booking-Token header)",
        audience=Audience.ANYONE,
        response=BookingPage,
        tag="booking",
        errors=(401, 404, 410, 429),
    )(booking_page)
    route(
        "POST",
        "/api/book",
        summary="Book a slot through a booking link; answers with the visit link and invite",
        audience=Audience.ANYONE,
        body=SelfBookingIn,
        response=SelfBookingOut,
        status=201,
        tag="booking",
        errors=(401, 404, 409, 410, 429),
    )(book_through_link)
