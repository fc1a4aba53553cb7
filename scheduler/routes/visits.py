"""Changing visits: staff move, cancel and start visits now; clients, through their own link,
see, move and cancel theirs until the cut-off before the start. Invites for both."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select

from scheduler.availability import open_slots, take_open_slot
from scheduler.invites import invite
from scheduler.keys import JOBS
from scheduler.messages import client_invite_text, staff_invite_text
from scheduler.models import DocumentRequest, OfficeHours, UploadedDocument
from scheduler.routes.office_hours import SlotsOut, slots_out
from visits import audit
from visits.access import Audience, booking_for, case_for, may_change_case, may_change_own_visit
from visits.bookings import cancel_booking, check_changeable, create_booking, move_booking
from visits.db import utcnow
from visits.errors import Conflict, Forbidden
from visits.models import Booking, BookingKind, BookingStatus, Case, Client, StaffUser
from visits.web.api import Api, Call
from visits.web.routes.bookings import link_out
from visits.web.schemas import BookingOut, BookingWithLink

ICS = "text/calendar"


class MoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_at: AwareDatetime
    end_at: AwareDatetime | None = Field(None, description="Default: keep the visit's length.")


class OnDemandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: uuid.UUID
    minutes: Annotated[int, Field(ge=5, le=480)] | None = Field(
        None, description="Length; default VV_ON_DEMAND_MINUTES."
    )
    purpose: Annotated[str, Field(max_length=2000)] = ""


class ClientMoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_at: AwareDatetime


class RequestedDocument(BaseModel):
    id: uuid.UUID
    description: str
    uploaded: int = Field(description="How many files were sent for this request.")


class PortalVisit(BaseModel):
    """What the client's link shows: the visit, what they may do, what was asked of them."""

    booking_id: uuid.UUID
    start_at: datetime
    end_at: datetime
    time_zone: str
    status: BookingStatus
    kind: BookingKind
    caseworker_name: str
    language: str
    your_role: str
    can_change: bool
    change_until: datetime | None
    join_path: str
    document_requests: list[RequestedDocument]
    upload_max_mb: int


def _invite_response(ics: bytes) -> web.Response:
    return web.Response(
        body=ics,
        content_type=ICS,
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="visit.ics"'},
    )


# Staff --------------------------------------------------------------------------------------


async def _changeable_booking(call: Call[Any, None], session: Any) -> Booking:
    booking = await booking_for(session, call.principal, call.ids["booking_id"])
    case = await session.get(Case, booking.case_id)
    if not may_change_case(call.principal, case):
        raise Forbidden("Only the assigned caseworker or a supervisor may change this visit.")
    return booking


async def move_visit(call: Call[MoveIn, None]) -> BookingOut:
    body = call.body
    async with call.db.transaction() as session:
        booking = await _changeable_booking(call, session)
        end_at = body.end_at or body.start_at + (booking.end_at - booking.start_at)
        before = booking.start_at
        await move_booking(
            session,
            booking,
            start_at=body.start_at,
            end_at=end_at,
            link_valid_days=call.settings.client_token_days,
        )
        await audit.append(
            session,
            call.actor,
            "booking.move",
            "booking",
            booking.id,
            details={"from": before.isoformat(), "to": body.start_at.isoformat()},
        )
    await call.booking_changed(booking.id)
    return BookingOut.model_validate(booking)


async def cancel_visit(call: Call[None, None]) -> BookingOut:
    async with call.db.transaction() as session:
        booking = await _changeable_booking(call, session)
        await cancel_booking(session, booking)
        await audit.append(session, call.actor, "booking.cancel", "booking", booking.id)
    await call.booking_changed(booking.id)
    return BookingOut.model_validate(booking)


async def staff_invite(call: Call[None, None]) -> web.Response:
    async with call.db.transaction() as session:
        booking = await booking_for(session, call.principal, call.ids["booking_id"])
        case = await session.get(Case, booking.case_id)
        caseworker = await session.get(StaffUser, booking.caseworker_id)
        await audit.append(session, call.actor, "booking.invite", "booking", booking.id)
    base = call.settings.base_url
    return _invite_response(
        invite(
            booking,
            base,
            staff_invite_text(case.case_number, base + "/"),
            (caseworker.display_name, call.settings.mail_from),
        )
    )


async def start_now(call: Call[OnDemandIn, None]) -> BookingWithLink:
    body = call.body
    settings = call.settings
    start = utcnow().replace(microsecond=0)
    length = timedelta(minutes=body.minutes or settings.on_demand_minutes)
    async with call.db.transaction() as session:
        case = await case_for(session, call.principal, call.ids["case_id"])
        if not may_change_case(call.principal, case):
            raise Forbidden("Only the assigned caseworker or a supervisor may start a visit here.")
        client = await session.get(Client, body.client_id)
        office_zone = await _caseworker_zone(session, case.caseworker_id)
        booking, issued = await create_booking(
            session,
            case=case,
            client_id=body.client_id,
            start_at=start,
            end_at=start + length,
            time_zone=office_zone,
            purpose=body.purpose,
            kind=BookingKind.ON_DEMAND,
            created_by_id=call.staff.user_id,
            client_display_name=client.full_name if client else "",
            link_valid_days=settings.client_token_days,
        )
        await audit.append(
            session,
            call.actor,
            "booking.create",
            "booking",
            booking.id,
            details={"on_demand": True},
        )
    await call.booking_changed(booking.id)
    return BookingWithLink(
        booking=BookingOut.model_validate(booking), client_link=link_out(settings, issued)
    )


async def _caseworker_zone(session: Any, caseworker_id: uuid.UUID) -> str:
    office = await session.get(OfficeHours, caseworker_id)
    return office.time_zone if office is not None else "UTC"


# The client's own link --------------------------------------------------------------------


def _change_until(call: Call[Any, None], booking: Booking) -> datetime:
    return booking.start_at - timedelta(minutes=call.settings.change_cutoff_minutes)


def _check_cutoff(call: Call[Any, None], booking: Booking) -> None:
    check_changeable(booking)
    if utcnow() > _change_until(call, booking):
        hours = call.settings.change_cutoff_minutes / 60
        raise Conflict(
            f"This visit starts too soon to change it here (up to {hours:g} hours before). "
            "Please contact your caseworker."
        )


async def portal_visit(call: Call[None, None]) -> PortalVisit:
    link = call.link
    async with call.db.transaction() as session:
        booking = await booking_for(session, link, link.booking_id)
        caseworker = await session.get(StaffUser, booking.caseworker_id)
        client = await session.get(Client, booking.client_id)
        requests: list[RequestedDocument] = []
        if link.role.value == "client":
            rows = await session.execute(
                select(DocumentRequest, UploadedDocument.id)
                .outerjoin(UploadedDocument, UploadedDocument.request_id == DocumentRequest.id)
                .where(
                    DocumentRequest.case_id == booking.case_id,
                    DocumentRequest.client_id == booking.client_id,
                    DocumentRequest.open.is_(True),
                )
                .order_by(DocumentRequest.created_at)
            )
            counts: dict[uuid.UUID, RequestedDocument] = {}
            for request, upload_id in rows:
                item = counts.setdefault(
                    request.id,
                    RequestedDocument(id=request.id, description=request.description, uploaded=0),
                )
                item.uploaded += upload_id is not None
            requests = list(counts.values())
        await audit.append(session, call.actor, "booking.view", "booking", booking.id)
    can_change = (
        link.role.value == "client"
        and booking.status is BookingStatus.SCHEDULED
        and utcnow() <= _change_until(call, booking)
    )
    token = call.request.headers["Authorization"].removeprefix("Bearer ").strip()
    return PortalVisit(
        booking_id=booking.id,
        start_at=booking.start_at,
        end_at=booking.end_at,
        time_zone=booking.time_zone,
        status=booking.status,
        kind=booking.kind,
        caseworker_name=caseworker.display_name,
        language=client.preferred_language,
        your_role=link.role.value,
        can_change=can_change,
        change_until=_change_until(call, booking) if can_change else None,
        join_path=f"/v/{token}/join",
        document_requests=requests,
        upload_max_mb=call.settings.upload_max_mb,
    )


async def portal_slots(call: Call[None, None]) -> SlotsOut:
    link = may_change_own_visit(call.principal)
    async with call.db.transaction() as session:
        booking = await booking_for(session, link, link.booking_id)
        office, _, slots = await open_slots(session, booking.caseworker_id, exclude=booking.id)
    return slots_out(office.time_zone, office.slot_minutes, slots)


async def portal_move(call: Call[ClientMoveIn, None]) -> PortalVisit:
    link = may_change_own_visit(call.principal)
    async with call.db.transaction() as session:
        booking = await booking_for(session, link, link.booking_id)
        _check_cutoff(call, booking)
        _, slot = await take_open_slot(
            session, booking.caseworker_id, call.body.start_at, exclude=booking.id
        )
        before = booking.start_at
        await move_booking(
            session,
            booking,
            start_at=slot.start,
            end_at=slot.end,
            link_valid_days=call.settings.client_token_days,
        )
        await audit.append(
            session,
            call.actor,
            "booking.move",
            "booking",
            booking.id,
            details={"from": before.isoformat(), "to": slot.start.isoformat()},
        )
    await call.booking_changed(booking.id)
    return await portal_visit(call)  # type: ignore[arg-type]


async def portal_cancel(call: Call[None, None]) -> PortalVisit:
    link = may_change_own_visit(call.principal)
    async with call.db.transaction() as session:
        booking = await booking_for(session, link, link.booking_id)
        _check_cutoff(call, booking)
        await cancel_booking(session, booking)
        await audit.append(session, call.actor, "booking.cancel", "booking", booking.id)
    await call.booking_changed(booking.id)
    return await portal_visit(call)


async def portal_invite(call: Call[None, None]) -> web.Response:
    link = call.link
    async with call.db.transaction() as session:
        booking = await booking_for(session, link, link.booking_id)
        caseworker = await session.get(StaffUser, booking.caseworker_id)
        client = await session.get(Client, booking.client_id)
        await audit.append(session, call.actor, "booking.invite", "booking", booking.id)
    token = call.request.headers["Authorization"].removeprefix("Bearer ").strip()
    base = call.settings.base_url
    text = client_invite_text(
        call.request.app[JOBS].translations, client.preferred_language, f"{base}/v/{token}"
    )
    return _invite_response(
        invite(booking, base, text, (caseworker.display_name, call.settings.mail_from))
    )


def register(api: Api) -> None:
    route = api.route
    route(
        "PATCH",
        "/api/bookings/{booking_id}",
        summary="Move a visit (its links stay valid; calendars get a higher SEQUENCE)",
        audience=Audience.CASE_STAFF,
        body=MoveIn,
        response=BookingOut,
        tag="bookings",
        errors=(409,),
    )(move_visit)
    route(
        "POST",
        "/api/bookings/{booking_id}/cancel",
        summary="Cancel a visit that has not started",
        audience=Audience.CASE_STAFF,
        response=BookingOut,
        tag="bookings",
        errors=(409,),
    )(cancel_visit)
    route(
        "GET",
        "/api/bookings/{booking_id}/invite.ics",
        summary="The visit's calendar invite (REQUEST, or CANCEL once cancelled)",
        audience=Audience.CASE_STAFF,
        raw_response=ICS,
        tag="bookings",
    )(staff_invite)
    route(
        "POST",
        "/api/cases/{case_id}/visits-now",
        summary="Start a visit now (walk-in, phone call); answers with the client's join link",
        audience=Audience.CASE_STAFF,
        body=OnDemandIn,
        response=BookingWithLink,
        status=201,
        tag="bookings",
        errors=(409,),
    )(start_now)
    route(
        "GET",
        "/api/link/visit",
        summary="The visit this link admits to, what the client may do, documents asked for",
        audience=Audience.LINK,
        response=PortalVisit,
        tag="link",
    )(portal_visit)
    route(
        "GET",
        "/api/link/slots",
        summary="Open slots the client may move their visit to",
        audience=Audience.LINK,
        response=SlotsOut,
        tag="link",
    )(portal_slots)
    route(
        "POST",
        "/api/link/reschedule",
        summary="Move my visit to another open slot (until the cut-off)",
        audience=Audience.LINK,
        body=ClientMoveIn,
        response=PortalVisit,
        tag="link",
        errors=(409,),
    )(portal_move)
    route(
        "POST",
        "/api/link/cancel",
        summary="Cancel my visit (until the cut-off)",
        audience=Audience.LINK,
        response=PortalVisit,
        tag="link",
        errors=(409,),
    )(portal_cancel)
    route(
        "GET",
        "/api/link/invite.ics",
        summary="My visit's calendar invite",
        audience=Audience.LINK,
        raw_response=ICS,
        tag="link",
    )(portal_invite)
