"""Bookings of a case and the join links that admit clients and guests."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from visits import audit
from visits.access import Audience, booking_for, case_for, may_change_case
from visits.bookings import IssuedLink, create_booking, issue_link
from visits.errors import Forbidden
from visits.models import Booking, BookingKind, Case, Client, ParticipantRole, StaffUser
from visits.settings import Settings
from visits.web.api import Api, Call
from visits.web.schemas import BookingIn, BookingOut, BookingWithLink, LinkOut, Name


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: ParticipantRole
    display_name: Name


class LinkBooking(BaseModel):
    """What a join link shows: when, with whom, as whom. No case details."""

    booking_id: str
    start_at: datetime
    end_at: datetime
    time_zone: str
    status: str
    caseworker_name: str
    your_role: ParticipantRole
    your_name: str
    language: str


class BookingRange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: Annotated[int, Field(ge=1, le=500)] = 100


def link_out(settings: Settings, issued: IssuedLink) -> LinkOut:
    return LinkOut(
        id=issued.link.id,
        role=issued.link.role,
        display_name=issued.link.display_name,
        url=settings.base_url + issued.path(),
        expires_at=issued.link.expires_at,
    )


async def list_case_bookings(call: Call[None, BookingRange]) -> list[BookingOut]:
    async with call.db.transaction() as session:
        case = await case_for(session, call.principal, call.ids["case_id"])
        bookings = await session.scalars(
            select(Booking)
            .where(Booking.case_id == case.id)
            .order_by(Booking.start_at.desc())
            .limit(call.query.limit)
        )
        listed = [BookingOut.model_validate(b) for b in bookings]
        await audit.append(
            session, call.actor, "booking.list", "case", case.id, details={"count": len(listed)}
        )
        return listed


async def book_for_client(call: Call[BookingIn, None]) -> BookingWithLink:
    body = call.body
    async with call.db.transaction() as session:
        case = await case_for(session, call.principal, call.ids["case_id"])
        if not may_change_case(call.principal, case):
            raise Forbidden("Only the assigned caseworker or a supervisor may book for this case.")
        client = await session.get(Client, body.client_id)
        booking, issued = await create_booking(
            session,
            case=case,
            client_id=body.client_id,
            start_at=body.start_at,
            end_at=body.end_at,
            time_zone=body.time_zone,
            purpose=body.purpose,
            kind=BookingKind.SCHEDULED,
            created_by_id=call.staff.user_id,
            client_display_name=client.full_name if client else "",
            link_valid_days=call.settings.client_token_days,
        )
        await audit.append(session, call.actor, "booking.create", "booking", booking.id)
    await call.booking_changed(booking.id)
    return BookingWithLink(
        booking=BookingOut.model_validate(booking), client_link=link_out(call.settings, issued)
    )


async def get_booking(call: Call[None, None]) -> BookingOut:
    async with call.db.transaction() as session:
        booking = await booking_for(session, call.principal, call.ids["booking_id"])
        await audit.append(session, call.actor, "booking.view", "booking", booking.id)
        return BookingOut.model_validate(booking)


async def create_link(call: Call[LinkIn, None]) -> LinkOut:
    async with call.db.transaction() as session:
        booking = await booking_for(session, call.principal, call.ids["booking_id"])
        case = await session.get(Case, booking.case_id)
        assert case is not None
        if not may_change_case(call.principal, case):
            raise Forbidden("Only the assigned caseworker or a supervisor may invite people.")
        issued = await issue_link(
            session,
            booking,
            call.body.role,
            call.body.display_name,
            call.settings.client_token_days,
        )
        await audit.append(
            session,
            call.actor,
            "link.create",
            "booking",
            booking.id,
            details={"role": call.body.role.value, "link_id": str(issued.link.id)},
        )
    return link_out(call.settings, issued)


async def my_booking(call: Call[None, None]) -> LinkBooking:
    link = call.link
    async with call.db.transaction() as session:
        booking = await booking_for(session, link, link.booking_id)
        caseworker = await session.get(StaffUser, booking.caseworker_id)
        client = await session.get(Client, booking.client_id)
        await audit.append(session, call.actor, "booking.view", "booking", booking.id)
    assert caseworker is not None
    assert client is not None
    return LinkBooking(
        booking_id=str(booking.id),
        start_at=booking.start_at,
        end_at=booking.end_at,
        time_zone=booking.time_zone,
        status=booking.status.value,
        caseworker_name=caseworker.display_name,
        your_role=link.role,
        your_name=link.display_name,
        language=client.preferred_language,
    )


def register(api: Api) -> None:
    route = api.route
    route(
        "GET",
        "/api/cases/{case_id}/bookings",
        summary="Bookings of a case, newest first",
        audience=Audience.CASE_STAFF,
        query=BookingRange,
        response=list[BookingOut],
        tag="bookings",
    )(list_case_bookings)
    route(
        "POST",
        "/api/cases/{case_id}/bookings",
        summary="Book a visit for a client of the case; answers with the client's join link",
        audience=Audience.CASE_STAFF,
        body=BookingIn,
        response=BookingWithLink,
        status=201,
        tag="bookings",
        errors=(409,),
    )(book_for_client)
    route(
        "GET",
        "/api/bookings/{booking_id}",
        summary="One booking",
        audience=Audience.CASE_STAFF,
        response=BookingOut,
        tag="bookings",
    )(get_booking)
    route(
        "POST",
        "/api/bookings/{booking_id}/links",
        summary="Invite a guest (interpreter, family) or re-issue the client's link",
        audience=Audience.CASE_STAFF,
        body=LinkIn,
        response=LinkOut,
        status=201,
        tag="bookings",
    )(create_link)
    route(
        "GET",
        "/api/link/booking",
        summary="The booking this join link admits to",
        audience=Audience.LINK,
        response=LinkBooking,
        tag="link",
    )(my_booking)
