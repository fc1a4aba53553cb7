"""Attacks a stranger would try: walking out of the file routes, guessing ids and tokens,
forging cross-site changes, flooding bodies, and fuzzing every documented route."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from sqlalchemy import func, select

from tests.test_authorization_matrix import (
    ADMIN,
    CW_A,
    LINK_A,
    MATRIX,
    SUP_A,
    World,
    build_world,
)
from tests.world import ANONYMOUS, Persona, database
from visits.access import Audience
from visits.models import ThrottleHit
from visits.web.api import Endpoint
from visits.web.keys import API, SETTINGS

# Text of files outside static/ that no answer may ever contain.
SECRETS = (b"ROOMS: tuple", b"root:x:0:0", b"class Settings(BaseSettings)")

TRAVERSALS = (
    "/static/../run.py",
    "/static/%2e%2e/run.py",
    "/static/..%2frun.py",
    "/static/%2e%2e%2frun.py",
    "/static/js/..%2f..%2frun.py",
    "/static/%252e%252e/run.py",
    "/static/..%5crun.py",
    "/static/../../../../../../etc/passwd",
    "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static//etc/passwd",
    "/static/js/../../visits/settings.py",
    "/v/..%2f..%2frun.py",
    "/v/../../run.py/join",
    "/v/..%2f..%2frun.py/join",
    "/book/..%2f..%2frun.py",
    "/calendar/..%2f..%2frun.py.ics",
    "/calendar/%2e%2e%2f%2e%2e%2fetc%2fpasswd.ics",
    "/api/documents/..%2f..%2frun.py",
    "/api/documents/../../run.py",
    "/api/bookings/%2e%2e%2f%2e%2e%2fetc%2fpasswd/invite.ics",
)


async def raw_get(client: TestClient, target: str) -> tuple[int, bytes, bytes]:
    """GET `target` exactly as written (no client-side normalizing of `..` or escapes)."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    await writer.wait_closed()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), head, body


@pytest.mark.parametrize("target", TRAVERSALS)
async def test_path_traversal_never_leaves_the_served_files(
    client: TestClient, target: str
) -> None:
    """`..` in any spelling on the file and page routes reaches nothing outside them."""
    status, head, body = await raw_get(client, target)
    assert status < 500, body
    assert not any(secret in body for secret in SECRETS), target
    if target.startswith(("/static/", "/api/", "/calendar/")):
        assert status in (400, 403, 404), (target, status)
    if status >= 400:
        assert b"application/json" in head.lower(), head


async def test_uploaded_file_names_cannot_place_files(client: TestClient) -> None:
    """A hostile file name is kept only as text; the file lands under its generated name."""
    world = await build_world(client)
    link = world.personas[LINK_A]
    response = await link.call(
        client,
        "POST",
        f"/api/link/documents/{world.ids['request_id']}",
        data=b"%PDF-1.4\n% hostile name\n",
        headers={"X-File-Name": "..%2F..%2F..%2Frun.py", "Content-Type": "application/pdf"},
    )
    assert response.status == 201, await response.text()
    document_id = (await response.json())["id"]
    data_dir: Path = client.server.app[SETTINGS].data_dir
    stored = data_dir / "uploads" / world.ids["case_id"] / f"{document_id}.pdf"
    assert stored.read_bytes().startswith(b"%PDF-1.4\n% hostile")
    assert not (data_dir.parent / "run.py").exists()


def _caller(world: World, expect_statuses: dict[str, int]) -> str | None:
    """A persona the matrix lets reach team A's objects (not refused with 401/403/404)."""
    for name in (CW_A, SUP_A, LINK_A, ADMIN):
        if expect_statuses.get(name, 401) not in (401, 403, 404):
            return name
    return None


async def test_guessed_ids_answer_404_without_leaking(client: TestClient) -> None:
    """Random and malformed ids on every object route answer 404 (JSON, no content of any
    real object) to a caller who may use that route, never 500."""
    world = await build_world(client)
    endpoints: list[Endpoint] = [e for e in client.server.app[API].endpoints if e.id_params]
    assert endpoints
    failures = []
    for endpoint in endpoints:
        expect = MATRIX[(endpoint.method, endpoint.path)]
        name = _caller(world, expect.statuses)
        assert name is not None, endpoint.path
        persona = world.personas[name]
        body = expect.body(world, name) if expect.body else None
        for guess in (str(uuid.uuid4()), str(uuid.uuid4()), "..%2F..%2Fetc", "1%20OR%201=1"):
            path = endpoint.path.format(**dict.fromkeys(endpoint.id_params, guess))
            if isinstance(body, bytes):
                response = await persona.call(client, endpoint.method, path, data=body)
            else:
                response = await persona.call(client, endpoint.method, path, json=body)
            text = await response.text()
            if response.status != 404 or response.content_type != "application/json":
                failures.append(f"{name} {endpoint.method} {path}: {response.status} {text[:200]}")
            if leaked := [m for m in world.case_markers[:2] if m in text]:
                failures.append(f"{name} {endpoint.method} {path} leaked {leaked}")
    assert not failures, "\n".join(failures)


async def _guess_join_link(client: TestClient, attempt: int) -> int:
    guesser = Persona("guesser", link_token=f"guess-{attempt:04d}-" + "x" * 32)
    return (await guesser.call(client, "GET", "/api/link/visit")).status


async def _guess_kiosk_code(client: TestClient, attempt: int) -> int:
    body = {"code": f"{attempt:06d}", "pin": "123456"}
    return (await ANONYMOUS.call(client, "POST", "/api/kiosk/sign-in", json=body)).status


async def _guess_booking_link(client: TestClient, attempt: int) -> int:
    headers = {"X-Booking-Token": f"guess-{attempt:04d}"}
    return (await ANONYMOUS.call(client, "GET", "/api/book", headers=headers)).status


async def _guess_calendar_feed(client: TestClient, attempt: int) -> int:
    return (await client.get(f"/calendar/guess-{attempt:04d}.ics")).status


@pytest.mark.parametrize(
    "guess",
    [_guess_join_link, _guess_kiosk_code, _guess_booking_link, _guess_calendar_feed],
    ids=["join link", "kiosk code", "booking link", "calendar feed"],
)
async def test_guessing_tokens_is_throttled(service, guess) -> None:  # type: ignore[no-untyped-def]
    """After a few wrong tokens from one address every further try is refused with 429
    and Retry-After, right token or not, and the failures are on record."""
    client = await service(sign_in_max_failures=2)  # 8 wrong tokens per address and window
    statuses = [await guess(client, attempt) for attempt in range(12)]
    assert set(statuses[:8]) <= {401, 404}, statuses
    assert statuses[8:] == [429] * 4, statuses
    async with database(client).transaction() as session:
        hits = await session.scalar(select(func.count()).select_from(ThrottleHit))
    assert hits == 8
    response = await ANONYMOUS.call(
        client, "GET", "/api/link/visit", headers={"Authorization": "Bearer x"}
    )
    if guess is not _guess_kiosk_code:  # the kiosk has its own count
        assert response.status == 429
        assert int(response.headers["Retry-After"]) > 0


def _staff_persona_for(world: World, audience: Audience) -> Persona | None:
    return {
        Audience.STAFF: world.personas[CW_A],
        Audience.CASE_STAFF: world.personas[SUP_A],
        Audience.CASEWORKER: world.personas[CW_A],
        Audience.ADMIN: world.personas[ADMIN],
    }.get(audience)


async def test_cookie_changes_without_the_csrf_token_are_refused(client: TestClient) -> None:
    """Every POST/PUT/PATCH/DELETE a session cookie authorizes is refused (403) without the
    X-CSRF-Token header or with a wrong one, before it changes anything."""
    world = await build_world(client)
    failures = []
    checked = 0
    for endpoint in client.server.app[API].endpoints:
        if endpoint.method not in ("POST", "PUT", "PATCH", "DELETE"):
            continue
        persona = _staff_persona_for(world, endpoint.audience)
        if persona is None:
            continue
        expect = MATRIX[(endpoint.method, endpoint.path)]
        path = endpoint.path.format(**world.ids, hold_id=uuid.uuid4())
        body = expect.body(world, persona.name) if expect.body else None
        for token in (None, "forged-" + persona.csrf[:8]):
            headers = {"Cookie": f"vv_session={persona.cookie}"}
            if token:
                headers["X-CSRF-Token"] = token
            if isinstance(body, bytes):
                response = await client.request(endpoint.method, path, data=body, headers=headers)
            else:
                response = await client.request(endpoint.method, path, json=body, headers=headers)
            answer = await response.json()
            if response.status != 403 or "X-CSRF-Token" not in answer["message"]:
                failures.append(f"{endpoint.method} {path}: {response.status} {answer}")
        checked += 1
    assert checked >= 15
    assert not failures, "\n".join(failures)


async def test_oversized_bodies_are_refused_with_413_json(client: TestClient) -> None:
    """A JSON body over 1 MiB and an upload over the upload limit get 413 with a JSON
    error, and nothing is stored."""
    world = await build_world(client)
    huge = {"case_number": "X-1", "caseworker_id": world.ids["user_id"], "title": "x" * 2_000_000}
    response = await world.personas[SUP_A].call(
        client,
        "POST",
        "/api/cases",
        data=io.BytesIO(json.dumps(huge).encode()),
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 413
    assert (await response.json())["message"]
    limit = client.server.app[SETTINGS].upload_max_bytes
    upload = b"%PDF-1.4\n" + b"0" * limit
    response = await world.personas[LINK_A].call(
        client, "POST", f"/api/link/documents/{world.ids['request_id']}", data=io.BytesIO(upload)
    )
    assert response.status == 413
    assert (await response.json())["error"] == "payload_too_large"
    uploads = client.server.app[SETTINGS].data_dir / "uploads" / world.ids["case_id"]
    assert [p.name for p in uploads.iterdir()] == ["matrix.pdf"]


async def test_what_the_fuzzer_found_is_a_400(client: TestClient) -> None:
    """Nulling a required field, text with lone surrogates or NUL, an over-long language
    (each once a 500) are bad input, named in a 400, and change nothing."""
    world = await build_world(client)
    supervisor = world.personas[SUP_A]
    for path, body in (
        (f"/api/cases/{world.ids['case_id']}", {"title": None}),
        (f"/api/cases/{world.ids['case_id']}", {"caseworker_id": None}),
        (f"/api/clients/{world.ids['client_id']}", {"preferred_language": None}),
        (f"/api/clients/{world.ids['client_id']}", {"full_name": None}),
    ):
        response = await supervisor.call(client, "PATCH", path, json=body)
        assert response.status == 400, await response.text()
        assert "not set to null" in (await response.json())["message"]
    response = await supervisor.call(
        client,
        "PATCH",
        f"/api/clients/{world.ids['client_id']}",
        data=b'{"full_name": "\\udab2x"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 400, await response.text()
    assert "not valid Unicode" in (await response.json())["message"]
    # PostgreSQL refused these (SQLite stored them): a NUL in text, an over-long language.
    for path, body, problem in (
        ("/api/teams", {"name": "North\u0000"}, "NUL"),
        ("/api/session", {"username": "a\u0000", "password": "x"}, "NUL"),
        (
            f"/api/clients/{world.ids['client_id']}",
            {"preferred_language": "lr-FMh5L4Lx-oe0UdycK"},
            "preferred_language",
        ),
    ):
        persona = world.personas[ADMIN] if path == "/api/teams" else supervisor
        response = await persona.call(
            client, "POST" if "clients" not in path else "PATCH", path, json=body
        )
        assert response.status == 400, await response.text()
        assert problem in (await response.json())["message"]
    # A draft note's lists nulled broke its export, sign-off and decisions.
    response = await world.personas[CW_A].call(
        client, "PUT", f"/api/notes/{world.ids['note_id']}", json={"key_statements": None}
    )
    assert response.status == 400, await response.text()
    assert "not set to null" in (await response.json())["message"]
    # A key statement sent without its optional speaker broke the text and HTML exports.
    path = f"/api/notes/{world.ids['note_id']}"
    edited = await world.personas[CW_A].call(
        client, "PUT", path, json={"key_statements": [{"text": "We will meet in May."}]}
    )
    assert edited.status == 200, await edited.text()
    for kind in ("text", "html"):
        exported = await world.personas[CW_A].call(client, "GET", f"{path}/export?format={kind}")
        assert exported.status == 200, await exported.text()
        assert "We will meet in May." in await exported.text()
    case = await (await supervisor.call(client, "GET", f"/api/cases/{world.ids['case_id']}")).json()
    assert case["title"] == "Case A-1001"
    assert case["clients"][0]["full_name"] == "Alice Alpha"


# Fuzzing ----------------------------------------------------------------------------------

# Calls that end the fuzzing persona's session or change who it is.
_NOT_FUZZED = {("DELETE", "/api/session"), ("POST", "/api/session/password")}
_EXAMPLES = 40


def _fuzz(base_url: str, world: World, schema: Any) -> list[str]:
    """Run every operation's generated requests (random ids, and the world's real ids) as a
    caller the route admits; return every 5xx answer."""
    http = requests.Session()
    failures: list[str] = []
    audiences = {(e.method, e.path): e.audience for e in world.objects["endpoints"]}
    for result in schema.get_all_operations():
        operation = result.ok()
        key = (operation.method.upper(), operation.path)
        if key in _NOT_FUZZED:
            continue
        audience = audiences[key]
        persona = _staff_persona_for(world, audience) or (
            world.personas[LINK_A] if audience is Audience.LINK else ANONYMOUS
        )
        # Real ids too, but not for administrators' fuzzed edits, which could lock us out.
        _fuzz_operation(
            operation,
            base_url,
            http,
            persona.headers(key[0]),
            world.ids if audience is not Audience.ADMIN else {},
            failures,
        )
    http.close()
    return failures


def _fuzz_operation(
    operation: Any,
    base_url: str,
    http: requests.Session,
    headers: dict[str, str],
    real_ids: dict[str, str],
    failures: list[str],
) -> None:
    @hypothesis_settings(
        max_examples=_EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        attempts = [dict(case.path_parameters or {})]
        if real_ids and case.path_parameters:
            attempts.append({name: real_ids.get(name, "") for name in case.path_parameters})
        for ids in attempts:
            case.path_parameters = ids
            response = case.call(base_url=base_url, session=http, headers=headers)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} query={case.query} "
                    f"body={json.dumps(case.body, default=str)[:300]}: "
                    f"{response.status_code} {response.text[:200]}"
                )

    run()


@pytest.mark.slow
async def test_fuzzing_every_documented_route_finds_no_server_error(client: TestClient) -> None:
    """Requests generated from /api/openapi.json (schemathesis), sent as callers each route
    admits, never get a 5xx answer."""
    world = await build_world(client)
    world.objects["endpoints"] = client.server.app[API].endpoints
    document = await (await client.get("/api/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(document)
    base_url = str(client.make_url("")).rstrip("/")
    failures = await asyncio.to_thread(_fuzz, base_url, world, schema)
    assert not failures, "\n".join(dict.fromkeys(failures))
    async with database(client).transaction():
        pass  # the database still answers after the run
