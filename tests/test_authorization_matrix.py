"""Every /api route, called by every kind of caller, answers as the access rules say.

The world: team A (caseworker cw_a, supervisor sup_a) owns case A with a booking and its
client link; team B (cw_b, sup_b) owns case B likewise; plus an administrator. Path ids
always point at team A's objects. Callers outside team A must get the stated refusal, and
no 2xx answer to them may contain team A's case content.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp.test_utils import TestClient

from tests.world import (
    ANONYMOUS,
    PASSWORD,
    Persona,
    add_case,
    add_team,
    book,
    link_persona,
    sign_in,
    staff_persona,
    tomorrow_at,
)
from visits.models import StaffRole
from visits.web.keys import API

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

    def unique(self, prefix: str) -> str:
        return f"{prefix}-{next(self.counter)}"


Body = Callable[[World, str], Any]


@dataclass(frozen=True)
class Expect:
    statuses: dict[str, int]
    body: Body | None = None
    fresh_session: bool = False  # the call ends the caller's session: sign in anew first


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


MATRIX: dict[tuple[str, str], Expect] = {
    ("GET", "/healthz"): Expect(only({}, 200)),
    ("GET", "/api/openapi.json"): Expect(only({}, 200)),
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
    return World(
        personas=personas,
        ids={
            "case_id": str(case_a.id),
            "client_id": str(client_a.id),
            "booking_id": booking_a["booking"]["id"],
            "user_id": str(personas[CW_A].user_id),
        },
        case_markers=["A-1001", "Alice Alpha", booking_a["booking"]["id"], str(case_a.id)],
        staff_markers=["cw_a", "sup_a"],
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
        path = template.format(**world.ids)
        for persona_name, wanted in expect.statuses.items():
            persona = world.personas[persona_name]
            if expect.fresh_session and persona.cookie:
                persona = await sign_in(client, persona_name)
            body = expect.body(world, persona_name) if expect.body else None
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
