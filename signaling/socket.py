"""The visit WebSocket: one per participant; the first message says who is joining."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from signaling import records
from signaling.keys import LIVE_VISITS
from signaling.participant import Participant
from signaling.protocol import MAX_MESSAGE_BYTES, Hello, ProtocolError, error, parse
from signaling.session import VisitSession
from visits.access import Audience, LinkPrincipal, StaffPrincipal, admit, booking_for
from visits.errors import Forbidden, NotSignedIn, VisitsError
from visits.models import Booking, BookingStatus, Client, ParticipantRole, StaffUser
from visits.web.keys import AUTHENTICATOR, DATABASE, SETTINGS

logger = logging.getLogger(__name__)

# A client marked no-show who turns up late may still join.
JOINABLE = (BookingStatus.SCHEDULED, BookingStatus.IN_PROGRESS, BookingStatus.NO_SHOW)


def _check_origin(request: web.Request) -> None:
    """Browsers send Origin on WebSockets; refuse other sites' pages (cross-site hijacking)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return
    allowed = {
        f"{request.scheme}://{request.host}",
        "{0.scheme}://{0.netloc}".format(urlsplit(request.app[SETTINGS].base_url)),
    }
    if origin not in allowed:
        raise Forbidden(f"WebSocket connections from {origin} are not allowed.")


async def _welcome(
    request: web.Request, ws: web.WebSocketResponse, hello: Hello
) -> tuple[VisitSession, Participant]:
    """Authenticate the hello and put its sender into the visit."""
    db = request.app[DATABASE]
    settings = request.app[SETTINGS]
    authenticator = request.app[AUTHENTICATOR]
    principal: LinkPrincipal | StaffPrincipal
    if hello.token:
        principal = await authenticator.link_principal(
            hello.token, request.remote or "", request.headers.get("User-Agent", "")
        )
        booking_id = principal.booking_id
    elif hello.booking_id:
        staff = await authenticator.principal(request)
        admit(Audience.CASE_STAFF, staff)
        assert isinstance(staff, StaffPrincipal)
        principal = staff
        booking_id = hello.booking_id
    else:
        raise ProtocolError("invalid_message", "hello needs a token (links) or booking_id (staff).")

    async with db.transaction() as session:
        booking: Booking = await booking_for(session, principal, booking_id)
        client = await session.get(Client, booking.client_id)
        caseworker = await session.get(StaffUser, booking.caseworker_id)
    if booking.status not in JOINABLE:
        raise ProtocolError(
            "visit_closed", f"This visit is {booking.status.value.replace('_', ' ')}."
        )
    assert client is not None
    assert caseworker is not None

    async def send(message: dict[str, Any]) -> None:
        await ws.send_json(message)

    if isinstance(principal, StaffPrincipal):
        participant = Participant(
            role=principal.role.value,
            name=principal.display_name,
            language=hello.language or "en",
            send=send,
            close=ws.close,
            staff_user_id=principal.user_id,
        )
    else:
        participant = Participant(
            role=principal.role.value,
            name=principal.display_name or principal.role.value.title(),
            language=hello.language or client.preferred_language,
            send=send,
            close=ws.close,
            link_id=principal.token_id,
        )
    if participant.role == ParticipantRole.CLIENT.value:
        await records.mark_client_joined(db, booking.id)
    live = request.app[LIVE_VISITS]
    visit = live.session(booking.id)
    await participant.tell(
        {
            "type": "welcome",
            "participant_id": participant.id,
            "role": participant.role,
            "name": participant.name,
            "language": participant.language,
            "booking": {
                "id": str(booking.id),
                "start_at": booking.start_at.isoformat(),
                "end_at": booking.end_at.isoformat(),
                "time_zone": booking.time_zone,
                "caseworker_name": caseworker.display_name,
            },
            "ice": live.context.ice.to_browser_config(),
            "consent_notice_version": live.context.notice_version,
            "max_remote": settings.visit_max_participants - 1,
            "state": "admitted" if participant.is_staff else "lobby",
        }
    )
    await visit.join(participant)
    return visit, participant


async def visit_socket(request: web.Request) -> web.StreamResponse:
    """GET /ws/visit: the signaling channel of one participant (docs/signaling.md)."""
    _check_origin(request)
    ws = web.WebSocketResponse(heartbeat=15, max_msg_size=MAX_MESSAGE_BYTES)
    await ws.prepare(request)
    visit: VisitSession | None = None
    participant: Participant | None = None
    try:
        async for frame in ws:
            if frame.type == WSMsgType.ERROR:
                break  # e.g. no pong to our heartbeat: the connection is gone
            if frame.type != WSMsgType.TEXT:
                await ws.send_json(error("invalid_message", "Send JSON text messages."))
                continue
            kind = None
            try:
                message = parse(frame.data)
                kind = getattr(message, "type", None)
                if participant is None or visit is None:
                    if not isinstance(message, Hello):
                        raise ProtocolError("hello_first", "Send 'hello' first.")
                    visit, participant = await _welcome(request, ws, message)
                elif isinstance(message, Hello):
                    raise ProtocolError("out_of_order", "You have already said hello.")
                else:
                    await visit.handle(participant, message)
            except ProtocolError as problem:
                await ws.send_json(error(problem.code, problem.message, kind))
            except NotSignedIn as problem:
                await ws.send_json(error(problem.code, problem.message, kind))
                await ws.close()
            except VisitsError as problem:
                await ws.send_json(error(problem.code, problem.message, kind))
            if participant is not None and participant.gone:
                break
    finally:
        if visit is not None and participant is not None:
            await visit.leave(participant, "websocket_closed")
        if not ws.closed:
            await ws.close()
    return ws
