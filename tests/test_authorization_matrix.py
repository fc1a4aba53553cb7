"""Every /api route, called by every kind of caller, answers as the access rules say.

The world: team A (caseworker cw_a, supervisor sup_a) owns case A with a booking and its
client link; team B (cw_b, sup_b) owns case B likewise; plus an administrator. Path ids
always point at team A's objects. Callers outside team A must get the stated refusal, and
no 2xx answer to them may contain team A's case content.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp.test_utils import TestClient

from scheduler.models import DocumentRequest, UploadedDocument
from tests.scheduling import add_office_hours, add_share_link, days_ahead
from tests.world import (
    ANONYMOUS,
    PASSWORD,
    Persona,
    add_case,
    add_team,
    book,
    database,
    link_persona,
    sign_in,
    staff_persona,
    tomorrow_at,
)
from visits.models import Booking, NoteStatus, Recording, RecordingStatus, StaffRole, VisitNote
from visits.web.keys import API, SETTINGS

ANON, LINK_B, CW_B, SUP_B, ADMIN = "anonymous", "link_b", "cw_b", "sup_b", "admin"
CW_A, SUP_A, LINK_A = "cw_a", "sup_a", "link_a"
STAFF = (CW_B, SUP_B, ADMIN, CW_A, SUP_A)
EVERYONE = (ANON, LINK_B, *STAFF, LINK_A)


@dataclass
class World:
    personas: dict[str, Persona]
    ids: dict[str, str]
    case_markers: list[str]  # team A's case content: no outsider and no admin may see these
    staff_markers: list[str]  # team A's staff: no one outside team A but admins may see these
    counter: itertools.count[int] = field(default_factory=itertools.count)
    objects: dict[str, Any] = field(default_factory=dict)

    def unique(self, prefix: str) -> str:
        return f"{prefix}-{next(self.counter)}"


Body = Callable[[World, str], Any]  # bytes are sent as they are, anything else as JSON
# Before each call: a fresh object of team A for a call that uses one up (cancel, move).
Fresh = Callable[[TestClient, World], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Expect:
    statuses: dict[str, int]
    body: Body | None = None
    fresh_session: bool = False  # the call ends the caller's session: sign in anew first
    fresh: Fresh | None = None  # its ids replace the world's; its "link_a" replaces LINK_A


def only(statuses: dict[str, int], default: int) -> dict[str, int]:
    return {persona: statuses.get(persona, default) for persona in EVERYONE}


def case_content(ok: int) -> dict[str, int]:
    """A route on team A's case content: owners succeed, outsiders see nothing there."""
    return only(
        {ANON: 401, LINK_B: 401, LINK_A: 401, ADMIN: 403, CW_B: 404, SUP_B: 404}, default=ok
    )


def staff_only(ok: int) -> dict[str, int]:
    return only({ANON: 401, LINK_B: 401, LINK_A: 401}, default=ok)


def admin_only(ok: int) -> dict[str, int]:
    return only({ANON: 401, LINK_B: 401, LINK_A: 401, ADMIN: ok}, default=403)


def booking_body(world: World, persona: str) -> dict[str, Any]:
    start = tomorrow_at(8 + next(world.counter) % 10, 0)
    return {
        "client_id": world.ids["client_id"],
        "start_at": start.isoformat(),
        "end_at": start.replace(minute=30).isoformat(),
        "time_zone": "Europe/London",
    }


def caseworkers_only(ok: int) -> dict[str, int]:
    return only({ANON: 401, LINK_B: 401, LINK_A: 401, ADMIN: 403, SUP_A: 403, SUP_B: 403}, ok)


def supervisors_only(ok: int, other_team: int) -> dict[str, int]:
    """Team oversight: team A's supervisor; team B's sees their own team (or nothing of A)."""
    return only({ANON: 401, LINK_B: 401, LINK_A: 401, SUP_A: ok, SUP_B: other_team}, default=403)


def links_only(ok: int) -> dict[str, int]:
    return only({LINK_A: ok, LINK_B: ok}, 401)


OFFICE_HOURS = {
    "time_zone": "UTC",
    "slot_minutes": 30,
    "min_notice_minutes": 0,
    "blocks": [{"weekday": d, "start_time": "00:00", "end_time": "23:30"} for d in range(7)],
}


def open_slot(world: World, persona: str) -> dict[str, Any]:
    """A slot nobody has booked: every half hour of every day is office hours in the world."""
    number = next(world.counter)
    return {"start_at": days_ahead(10 + number // 20, minute=30 * (number % 20)).isoformat()}


async def fresh_booking(client: TestClient, world: World) -> dict[str, Any]:
    """A new visit of team A (and its client link) for a call that cancels or moves one."""
    number = next(world.counter)
    start = days_ahead(5 + number // 20, minute=30 * (number % 20))
    booking = await book(
        client, world.personas[CW_A], world.objects["case_a"], world.objects["client_a"], start
    )
    return {"booking_id": booking["booking"]["id"], LINK_A: link_persona(LINK_A, booking)}


async def fresh_hold(client: TestClient, world: World) -> dict[str, Any]:
    """A new legal hold on team A's case, for a call that releases one."""
    response = await world.personas[SUP_A].call(
        client,
        "POST",
        "/api/legal-holds",
        json={"case_id": world.ids["case_id"], "reason": "Matrix"},
    )
    assert response.status == 201, await response.text()
    return {"hold_id": (await response.json())["id"]}


def supervisors_of_a(ok: int) -> dict[str, int]:
    """Supervisors act on their team's cases; every other staff role is refused outright."""
    return case_content(ok) | {CW_A: 403, CW_B: 403}


async def add_note(client: TestClient, booking_id: str, *, signed: bool = False) -> dict[str, str]:
    """A visit note on a booking of team A, with one suggestion (a draft) or none (signed)."""
    item = str(uuid.uuid4())
    async with database(client).transaction() as session:
        booking = await session.get(Booking, uuid.UUID(booking_id))
        assert booking is not None
        note = VisitNote(
            booking_id=booking.id,
            case_id=booking.case_id,
            body={
                "summary": "Visit",
                "action_items": []
                if signed
                else [
                    {
                        "id": item,
                        "text": "Bring the lease",
                        "owner": "Alice Alpha",
                        "due": None,
                        "at": 3.0,
                        "status": "suggested",
                    }
                ],
            },
            status=NoteStatus.SIGNED if signed else NoteStatus.DRAFT,
        )
        session.add(note)
    return {"booking_id": booking_id, "note_id": str(note.id), "item_id": item}


async def fresh_draft(client: TestClient, world: World) -> dict[str, Any]:
    booked = await fresh_booking(client, world)
    return booked | await add_note(client, booked["booking_id"])


async def fresh_signed(client: TestClient, world: World) -> dict[str, Any]:
    booked = await fresh_booking(client, world)
    return booked | await add_note(client, booked["booking_id"], signed=True)


def note_authors(ok: int) -> dict[str, int]:
    """The case's caseworker changes its notes; other caseworkers find none; others may not."""
    return caseworkers_only(ok) | {CW_B: 404}


def pdf(world: World, persona: str) -> bytes:
    return b"%PDF-1.4\n% matrix test\n"


MATRIX: dict[tuple[str, str], Expect] = {
    ("GET", "/healthz"): Expect(only({}, 200)),
    ("GET", "/api/openapi.json"): Expect(only({}, 200)),
    ("GET", "/api/languages"): Expect(only({}, 200)),
    ("GET", "/api/visits/today"): Expect(case_content(200) | {CW_B: 200, SUP_B: 200}),
    ("GET", "/api/bookings/{booking_id}/live"): Expect(case_content(200)),
    ("POST", "/api/bookings/{booking_id}/kiosk-code"): Expect(case_content(201)),
    ("POST", "/api/kiosk/sign-in"): Expect(
        only({}, 401), body=lambda w, p: {"code": "000000", "pin": "000000"}
    ),
    ("POST", "/api/session"): Expect(
        only({}, 401), body=lambda w, p: {"username": w.unique("nobody"), "password": "wrong-pass"}
    ),
    ("GET", "/api/session"): Expect(staff_only(200)),
    ("DELETE", "/api/session"): Expect(staff_only(204), fresh_session=True),
    ("POST", "/api/session/password"): Expect(
        staff_only(204),
        body=lambda w, p: {"current_password": PASSWORD, "new_password": PASSWORD},
        fresh_session=True,
    ),
    ("GET", "/api/teams"): Expect(admin_only(200)),
    ("POST", "/api/teams"): Expect(admin_only(201), body=lambda w, p: {"name": w.unique("team")}),
    ("GET", "/api/staff"): Expect(staff_only(200)),
    ("POST", "/api/staff"): Expect(
        admin_only(201),
        body=lambda w, p: {
            "username": w.unique("new"),
            "display_name": "New Person",
            "role": "admin",
            "password": PASSWORD,
        },
    ),
    ("PATCH", "/api/staff/{user_id}"): Expect(
        admin_only(200), body=lambda w, p: {"display_name": "Casey Worker"}
    ),
    ("GET", "/api/cases"): Expect(case_content(200) | {CW_B: 200, SUP_B: 200}),
    ("POST", "/api/cases"): Expect(
        case_content(201),
        body=lambda w, p: {
            "case_number": w.unique("N"),
            "caseworker_id": w.ids["user_id"],
            "clients": [{"full_name": "Pat Example"}],
        },
    ),
    ("GET", "/api/cases/{case_id}"): Expect(case_content(200)),
    ("PATCH", "/api/cases/{case_id}"): Expect(
        case_content(200), body=lambda w, p: {"title": "Housing support"}
    ),
    ("POST", "/api/cases/{case_id}/clients"): Expect(
        case_content(201), body=lambda w, p: {"full_name": "Sam Example"}
    ),
    ("PATCH", "/api/clients/{client_id}"): Expect(
        case_content(200), body=lambda w, p: {"preferred_language": "es"}
    ),
    ("GET", "/api/cases/{case_id}/bookings"): Expect(case_content(200)),
    ("POST", "/api/cases/{case_id}/bookings"): Expect(case_content(201), body=booking_body),
    ("GET", "/api/bookings/{booking_id}"): Expect(case_content(200)),
    ("POST", "/api/bookings/{booking_id}/links"): Expect(
        case_content(201), body=lambda w, p: {"role": "interpreter", "display_name": "Ana"}
    ),
    ("GET", "/api/link/booking"): Expect(only({LINK_A: 200, LINK_B: 200}, 401)),
    # Scheduling
    ("GET", "/api/office-hours"): Expect(caseworkers_only(200)),
    ("PUT", "/api/office-hours"): Expect(caseworkers_only(200), body=lambda w, p: OFFICE_HOURS),
    ("GET", "/api/office-hours/slots"): Expect(caseworkers_only(200)),
    ("POST", "/api/share-links"): Expect(caseworkers_only(201), body=lambda w, p: {}),
    ("GET", "/api/share-links"): Expect(case_content(200) | {CW_B: 200, SUP_B: 200}),
    ("DELETE", "/api/share-links/{link_id}"): Expect(case_content(204)),
    ("POST", "/api/cases/{case_id}/share-links"): Expect(
        case_content(201), body=lambda w, p: {"client_id": w.ids["client_id"]}
    ),
    # The booking token goes in X-Booking-Token: no caller here has one.
    ("GET", "/api/book"): Expect(only({}, 401)),
    ("POST", "/api/book"): Expect(only({}, 401), body=open_slot),
    ("PATCH", "/api/bookings/{booking_id}"): Expect(case_content(200), body=open_slot),
    ("POST", "/api/bookings/{booking_id}/cancel"): Expect(case_content(200), fresh=fresh_booking),
    ("GET", "/api/bookings/{booking_id}/invite.ics"): Expect(case_content(200)),
    # The second visit "now" of the same caseworker overlaps the first.
    ("POST", "/api/cases/{case_id}/visits-now"): Expect(
        case_content(201) | {SUP_A: 409}, body=lambda w, p: {"client_id": w.ids["client_id"]}
    ),
    ("GET", "/api/link/visit"): Expect(links_only(200)),
    ("GET", "/api/link/slots"): Expect(links_only(200)),
    ("POST", "/api/link/reschedule"): Expect(links_only(200), body=open_slot, fresh=fresh_booking),
    ("POST", "/api/link/cancel"): Expect(links_only(200), fresh=fresh_booking),
    ("GET", "/api/link/invite.ics"): Expect(links_only(200)),
    ("POST", "/api/link/documents/{request_id}"): Expect(
        only({LINK_A: 201, LINK_B: 404}, 401), body=pdf
    ),
    ("POST", "/api/cases/{case_id}/document-requests"): Expect(
        case_content(201),
        body=lambda w, p: {"client_id": w.ids["client_id"], "description": "Proof of address"},
    ),
    ("GET", "/api/cases/{case_id}/documents"): Expect(case_content(200)),
    ("GET", "/api/documents/{document_id}"): Expect(case_content(200)),
    # Retention
    ("POST", "/api/legal-holds"): Expect(
        supervisors_of_a(201),
        body=lambda w, p: {"case_id": w.ids["case_id"], "reason": "Court order"},
    ),
    ("GET", "/api/legal-holds"): Expect(case_content(200) | {CW_B: 200, SUP_B: 200}),
    ("POST", "/api/legal-holds/{hold_id}/release"): Expect(supervisors_of_a(200), fresh=fresh_hold),
    ("POST", "/api/calendar-feed"): Expect(caseworkers_only(201)),
    # Transcripts and notes
    ("GET", "/api/bookings/{booking_id}/transcript"): Expect(case_content(200)),
    ("GET", "/api/bookings/{booking_id}/note"): Expect(case_content(200)),
    ("GET", "/api/cases/{case_id}/notes"): Expect(case_content(200)),
    ("GET", "/api/cases/{case_id}/timeline"): Expect(case_content(200)),
    ("GET", "/api/cases/{case_id}/messages"): Expect(case_content(200)),
    ("PUT", "/api/notes/{note_id}"): Expect(
        note_authors(200), body=lambda w, p: {"summary": "Talked about housing."}
    ),
    ("POST", "/api/notes/{note_id}/suggestions/{item_id}"): Expect(
        note_authors(200), body=lambda w, p: {"decision": "confirm"}
    ),
    ("POST", "/api/notes/{note_id}/sign"): Expect(note_authors(409), fresh=fresh_draft),
    ("POST", "/api/notes/{note_id}/addenda"): Expect(
        note_authors(201), body=lambda w, p: {"text": "Correction."}, fresh=fresh_signed
    ),
    ("GET", "/api/notes/{note_id}/export"): Expect(case_content(200)),
    ("GET", "/api/notes/{note_id}/history"): Expect(case_content(200)),
    ("DELETE", "/api/calendar-feed"): Expect(caseworkers_only(204)),
    # Supervision
    ("GET", "/api/team/visits"): Expect(supervisors_only(200, 200)),
    ("GET", "/api/visits/{booking_id}"): Expect(supervisors_only(200, 404)),
    ("GET", "/api/recordings/{recording_id}/media"): Expect(supervisors_only(200, 404)),
    ("GET", "/api/review-queue"): Expect(supervisors_only(200, 200)),
    ("POST", "/api/review-queue/{booking_id}/reviewed"): Expect(
        supervisors_only(201, 404), body=lambda w, p: {"comment": "Looked at it."}
    ),
    ("GET", "/api/team/metrics"): Expect(supervisors_only(200, 200)),
    ("GET", "/api/team/metrics.csv"): Expect(supervisors_only(200, 200)),
}


async def build_world(client: TestClient) -> World:
    team_a, team_b = await add_team(client, "Team A"), await add_team(client, "Team B")
    personas = {
        ANON: ANONYMOUS,
        CW_A: await staff_persona(client, CW_A, StaffRole.CASEWORKER, team_a),
        SUP_A: await staff_persona(client, SUP_A, StaffRole.SUPERVISOR, team_a),
        CW_B: await staff_persona(client, CW_B, StaffRole.CASEWORKER, team_b),
        SUP_B: await staff_persona(client, SUP_B, StaffRole.SUPERVISOR, team_b),
        ADMIN: await staff_persona(client, ADMIN, StaffRole.ADMIN, None),
    }
    case_a, client_a = await add_case(client, personas[CW_A], "A-1001", "Alice Alpha")
    case_b, client_b = await add_case(client, personas[CW_B], "B-2002", "Bob Bravo")
    booking_a = await book(client, personas[CW_A], case_a, client_a, tomorrow_at(14))
    booking_b = await book(client, personas[CW_B], case_b, client_b, tomorrow_at(14))
    personas[LINK_A] = link_persona(LINK_A, booking_a)
    personas[LINK_B] = link_persona(LINK_B, booking_b)
    await add_office_hours(client, personas[CW_A])
    await add_office_hours(client, personas[CW_B])
    link_id, _ = await add_share_link(client, personas[CW_A], case_a.id, client_a.id)
    async with database(client).transaction() as session:
        request = DocumentRequest(case_id=case_a.id, client_id=client_a.id, description="ID")
        session.add(request)
        await session.flush()
        document = UploadedDocument(
            request_id=request.id,
            case_id=case_a.id,
            media_type="application/pdf",
            size=9,
            sha256="0" * 64,
            path=f"uploads/{case_a.id}/matrix.pdf",
        )
        session.add(document)
        recording = Recording(
            booking_id=uuid.UUID(booking_a["booking"]["id"]),
            participant_role="caseworker",
            kind="audio",
            path=f"recordings/{booking_a['booking']['id']}/matrix.ogg",
            status=RecordingStatus.FINALIZED,
        )
        session.add(recording)
    data_dir = client.server.app[SETTINGS].data_dir
    for path, content in ((document.path, b"%PDF-1.4\n"), (recording.path, b"OggS matrix\n")):
        (data_dir / path).parent.mkdir(parents=True, exist_ok=True)
        (data_dir / path).write_bytes(content)
    note = await add_note(client, booking_a["booking"]["id"])
    return World(
        personas=personas,
        ids={
            "case_id": str(case_a.id),
            "client_id": str(client_a.id),
            "booking_id": booking_a["booking"]["id"],
            "user_id": str(personas[CW_A].user_id),
            "link_id": str(link_id),
            "request_id": str(request.id),
            "document_id": str(document.id),
            "note_id": note["note_id"],
            "item_id": note["item_id"],
            "recording_id": str(recording.id),
        },
        case_markers=["A-1001", "Alice Alpha", booking_a["booking"]["id"], str(case_a.id)],
        staff_markers=["cw_a", "sup_a"],
        objects={"case_a": case_a, "client_a": client_a},
    )


def leaks(world: World, persona: str, text: str) -> list[str]:
    """Team A's content that `persona` may not see but `text` shows."""
    if persona in (CW_A, SUP_A, LINK_A):
        return []
    markers = world.case_markers + ([] if persona == ADMIN else world.staff_markers)
    return [marker for marker in markers if marker in text]


async def test_every_route_is_in_the_matrix(client: TestClient) -> None:
    """A new route cannot land without stating who may call it."""
    routes = {(e.method, e.path) for e in client.server.app[API].endpoints}
    assert routes == set(MATRIX), (
        f"missing from matrix: {routes - set(MATRIX)}; stale: {set(MATRIX) - routes}"
    )


async def test_every_caller_gets_the_answer_the_rules_give(client: TestClient) -> None:
    """Anonymous, other-booking links, other teams and admins are refused or see nothing of A."""
    world = await build_world(client)
    failures = []
    # Calls that end sessions go last, so they cannot sign anyone out of the other calls.
    for (method, template), expect in sorted(MATRIX.items(), key=lambda i: i[1].fresh_session):
        for persona_name, wanted in expect.statuses.items():
            persona = world.personas[persona_name]
            fresh = await expect.fresh(client, world) if expect.fresh else {}
            if persona_name in fresh:
                persona = fresh[persona_name]
            path = template.format(**(world.ids | fresh))
            if expect.fresh_session and persona.cookie:
                persona = await sign_in(client, persona_name)
            body = expect.body(world, persona_name) if expect.body else None
            if isinstance(body, bytes):
                response = await persona.call(client, method, path, data=body)
            else:
                response = await persona.call(client, method, path, json=body)
            text = await response.text()
            if response.status != wanted:
                failures.append(
                    f"{persona_name} {method} {path}: {response.status} != {wanted}: {text[:200]}"
                )
            if response.status < 300 and (leaked := leaks(world, persona_name, text)):
                failures.append(f"{persona_name} {method} {path} leaked {leaked}")
            if response.status >= 400:
                assert response.content_type == "application/json", f"{method} {path}: {text}"
                assert (await response.json())["message"]
    assert not failures, "\n".join(failures)
