"""HTTP routes of live visits: the console's view of today, kiosk codes, and kiosk sign-in."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select

from signaling import kiosk
from signaling.keys import LIVE_VISITS
from signaling.session import VisitSession
from visits import audit
from visits.access import Audience, booking_for, case_scope, may_change_case
from visits.bookings import check_time_zone
from visits.errors import Forbidden
from visits.models import Booking, BookingStatus, Case, Client
from visits.throttle import Throttle
from visits.web.api import Api, Call
from visits.web.keys import AUTHENTICATOR

Digits6 = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$")]


class LiveParticipant(BaseModel):
    participant_id: str
    role: str
    name: str
    admitted: bool
    consent: str | None


class LiveState(BaseModel):
    """Who is in a visit right now, who waits in the lobby, and what is being recorded."""

    live: bool
    recording: str | None
    participants: list[LiveParticipant]


class TodayVisit(BaseModel):
    booking_id: str
    case_id: str
    case_number: str
    client_name: str
    start_at: datetime
    end_at: datetime
    time_zone: str
    status: BookingStatus
    kind: str
    waiting: int
    in_visit: int
    recording: str | None


class TodayQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    time_zone: Annotated[str, Field(min_length=1, max_length=64)] = "UTC"


class KioskCodeOut(BaseModel):
    """Shown once to staff, who pass it to the client (e.g. by phone)."""

    code: str
    pin: str
    expires_at: datetime


class KioskSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Digits6
    pin: Digits6


class KioskLink(BaseModel):
    """A short-lived link token for the kiosk page to join with; it is never stored there."""

    token: str
    language: str


def live_state(session: VisitSession | None) -> LiveState:
    if session is None:
        return LiveState(live=False, recording=None, participants=[])
    return LiveState(
        live=True,
        recording=session.recording,
        participants=[
            LiveParticipant(
                participant_id=p.id,
                role=p.role,
                name=p.name,
                admitted=p.admitted,
                consent=p.consent,
            )
            for p in session.participants.values()
        ],
    )


async def visits_today(call: Call[None, TodayQuery]) -> list[TodayVisit]:
    zone = check_time_zone(call.query.time_zone)
    today = datetime.now(zone).date()
    start = datetime.combine(today, time(0), zone)
    end = datetime.combine(today + timedelta(days=1), time(0), zone)
    live = call.request.app[LIVE_VISITS]
    async with call.db.transaction() as session:
        rows = await session.execute(
            select(Booking, Case.case_number, Client.full_name)
            .join(Case, Case.id == Booking.case_id)
            .join(Client, Client.id == Booking.client_id)
            .where(
                case_scope(call.principal),
                Booking.start_at < end,
                Booking.end_at > start,
                Booking.status != BookingStatus.CANCELLED,
            )
            .order_by(Booking.start_at)
        )
        visits = []
        for booking, case_number, client_name in rows:
            state = live_state(live.sessions.get(booking.id))
            visits.append(
                TodayVisit(
                    booking_id=str(booking.id),
                    case_id=str(booking.case_id),
                    case_number=case_number,
                    client_name=client_name,
                    start_at=booking.start_at,
                    end_at=booking.end_at,
                    time_zone=booking.time_zone,
                    status=booking.status,
                    kind=booking.kind.value,
                    waiting=sum(not p.admitted for p in state.participants),
                    in_visit=sum(p.admitted for p in state.participants),
                    recording=state.recording,
                )
            )
    return visits


async def booking_live(call: Call[None, None]) -> LiveState:
    async with call.db.transaction() as session:
        booking = await booking_for(session, call.principal, call.ids["booking_id"])
    return live_state(call.request.app[LIVE_VISITS].sessions.get(booking.id))


async def issue_kiosk_code(call: Call[None, None]) -> KioskCodeOut:
    passwords = call.request.app[AUTHENTICATOR].passwords
    async with call.db.transaction() as session:
        booking = await booking_for(session, call.principal, call.ids["booking_id"])
        case = await session.get(Case, booking.case_id)
        assert case is not None
        if not may_change_case(call.principal, case):
            raise Forbidden("Only the assigned caseworker or a supervisor may issue kiosk codes.")
        issued = await kiosk.issue_code(session, passwords, booking)
        await audit.append(session, call.actor, "kiosk_code.issue", "booking", booking.id)
    return KioskCodeOut(code=issued.code, pin=issued.pin, expires_at=issued.expires_at)


async def kiosk_sign_in(call: Call[KioskSignIn, None]) -> KioskLink:
    settings = call.settings
    window = timedelta(minutes=settings.sign_in_window_minutes)
    throttle = Throttle("kiosk_address", settings.sign_in_max_failures * 4, window)
    issued, language = await kiosk.sign_in(
        call.db,
        call.request.app[AUTHENTICATOR].passwords,
        throttle,
        settings.kiosk_pin_max_failures,
        call.body.code,
        call.body.pin,
        call.actor,
    )
    return KioskLink(token=issued.token, language=language)


def register(api: Api) -> None:
    route = api.route
    route(
        "GET",
        "/api/visits/today",
        summary="Today's visits I may see, with who waits in each lobby",
        audience=Audience.CASE_STAFF,
        query=TodayQuery,
        response=list[TodayVisit],
        tag="live visits",
    )(visits_today)
    route(
        "GET",
        "/api/bookings/{booking_id}/live",
        summary="Who is in a visit and its lobby right now",
        audience=Audience.CASE_STAFF,
        response=LiveState,
        tag="live visits",
    )(booking_live)
    route(
        "POST",
        "/api/bookings/{booking_id}/kiosk-code",
        summary="Issue a visit code and PIN for joining at a kiosk (replaces any earlier one)",
        audience=Audience.CASE_STAFF,
        response=KioskCodeOut,
        status=201,
        tag="live visits",
        errors=(410,),
    )(issue_kiosk_code)
    route(
        "POST",
        "/api/kiosk/sign-in",
        summary="Exchange a visit code and PIN for a short-lived join token",
        audience=Audience.ANYONE,
        body=KioskSignIn,
        response=KioskLink,
        tag="live visits",
        errors=(401, 403, 410, 429),
    )(kiosk_sign_in)
