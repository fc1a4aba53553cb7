"""Staff sign-in: sessions, cookies, CSRF, idle timeout, throttling, and nothing stored in clear."""

from __future__ import annotations

from datetime import timedelta

from aiohttp.test_utils import TestClient
from sqlalchemy import select, text, update

from tests.world import (
    ANONYMOUS,
    PASSWORD,
    add_case,
    add_team,
    book,
    database,
    link_persona,
    sign_in,
    staff_persona,
)
from visits.db import utcnow
from visits.models import AccessToken, AuditEvent, StaffRole, StaffSession, StaffUser
from visits.security import token_hash


async def test_session_cookie_is_httponly_and_samesite(client: TestClient) -> None:
    """The session cookie cannot be read by scripts or sent by cross-site posts."""
    await staff_persona(client, "casey", StaffRole.ADMIN, None)
    response = await client.post("/api/session", json={"username": "casey", "password": PASSWORD})
    cookie = response.cookies["vv_session"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert not cookie["secure"]  # the test server's base URL is plain http


async def test_session_cookie_is_secure_behind_https(aiohttp_client, settings) -> None:  # type: ignore[no-untyped-def]
    """With an https base URL the cookie is only ever sent over TLS."""
    from aiohttp import DummyCookieJar

    from run import build_app

    https = settings.model_copy(update={"base_url": "https://visits.example.org"})
    client = await aiohttp_client(build_app(https), cookie_jar=DummyCookieJar())
    await staff_persona(client, "casey", StaffRole.ADMIN, None)
    response = await client.post("/api/session", json={"username": "casey", "password": PASSWORD})
    assert response.cookies["vv_session"]["secure"]


async def test_wrong_password_is_refused_and_audited(client: TestClient) -> None:
    """A wrong password gets 401 and leaves a failed sign-in in the audit log."""
    await staff_persona(client, "casey", StaffRole.ADMIN, None)
    response = await client.post(
        "/api/session", json={"username": "casey", "password": "nope-nope-nope"}
    )
    assert response.status == 401
    assert (await response.json())["message"] == "Wrong username or password."
    async with database(client).transaction() as session:
        outcomes = (
            await session.scalars(
                select(AuditEvent.outcome).where(AuditEvent.action == "staff.sign_in")
            )
        ).all()
    assert "failure" in outcomes


async def test_repeated_failures_lock_the_account_for_a_while(client: TestClient) -> None:
    """After five failures even the right password is refused with 429 and Retry-After."""
    await staff_persona(client, "casey", StaffRole.ADMIN, None)
    for _ in range(5):
        response = await client.post(
            "/api/session", json={"username": "casey", "password": "wrong-wrong"}
        )
        assert response.status == 401
    response = await client.post("/api/session", json={"username": "casey", "password": PASSWORD})
    assert response.status == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many" in (await response.json())["message"]


async def test_state_change_without_csrf_token_is_refused(client: TestClient) -> None:
    """A cookie alone cannot change anything: the CSRF header must match the session."""
    admin = await staff_persona(client, "root", StaffRole.ADMIN, None)
    cookie_only = {"Cookie": f"vv_session={admin.cookie}"}
    response = await client.post("/api/teams", json={"name": "North"}, headers=cookie_only)
    assert response.status == 403
    assert "CSRF" in (await response.json())["message"]
    wrong = cookie_only | {"X-CSRF-Token": "guess"}
    assert (await client.post("/api/teams", json={"name": "North"}, headers=wrong)).status == 403
    assert (await admin.call(client, "POST", "/api/teams", json={"name": "North"})).status == 201


async def test_sign_out_ends_the_session(client: TestClient) -> None:
    """After sign-out the old cookie no longer works."""
    admin = await staff_persona(client, "root", StaffRole.ADMIN, None)
    assert (await admin.call(client, "DELETE", "/api/session")).status == 204
    assert (await admin.call(client, "GET", "/api/session")).status == 401


async def test_idle_session_expires(client: TestClient) -> None:
    """A session unused for longer than the idle timeout is signed out."""
    admin = await staff_persona(client, "root", StaffRole.ADMIN, None)
    async with database(client).transaction() as session:
        await session.execute(
            update(StaffSession).values(last_seen_at=utcnow() - timedelta(minutes=31))
        )
    assert (await admin.call(client, "GET", "/api/session")).status == 401


async def test_deactivated_account_loses_its_session(client: TestClient) -> None:
    """An admin deactivating an account ends that person's access at once."""
    admin = await staff_persona(client, "root", StaffRole.ADMIN, None)
    team = await add_team(client, "North")
    worker = await staff_persona(client, "casey", StaffRole.CASEWORKER, team)
    response = await admin.call(
        client, "PATCH", f"/api/staff/{worker.user_id}", json={"active": False}
    )
    assert response.status == 200
    assert (await worker.call(client, "GET", "/api/session")).status == 401


async def test_password_reset_by_admin_ends_sessions_and_takes_effect(client: TestClient) -> None:
    """A reset password works for the next sign-in and the old sessions are gone."""
    admin = await staff_persona(client, "root", StaffRole.ADMIN, None)
    team = await add_team(client, "North")
    worker = await staff_persona(client, "casey", StaffRole.CASEWORKER, team)
    response = await admin.call(
        client, "PATCH", f"/api/staff/{worker.user_id}", json={"password": "a brand new secret"}
    )
    assert response.status == 200
    assert (await worker.call(client, "GET", "/api/session")).status == 401
    await sign_in(client, "casey", "a brand new secret")


async def test_weak_password_is_refused_with_reason(client: TestClient) -> None:
    """A too-short password is refused and the message says why."""
    admin = await staff_persona(client, "root", StaffRole.ADMIN, None)
    response = await admin.call(
        client,
        "POST",
        "/api/staff",
        json={"username": "x1", "display_name": "X", "role": "admin", "password": "short"},
    )
    assert response.status == 400
    assert "at least 10 characters" in (await response.json())["message"]


async def test_passwords_and_tokens_are_never_stored_in_clear(client: TestClient) -> None:
    """The database holds argon2 hashes and token digests, never the secrets themselves."""
    team = await add_team(client, "North")
    worker = await staff_persona(client, "casey", StaffRole.CASEWORKER, team)
    case, person = await add_case(client, worker, "C-1", "Dana Client")
    booking = await book(client, worker, case, person)
    link_token = link_persona("client", booking).link_token

    async with database(client).transaction() as session:
        dump = []
        for table in ("staff_users", "staff_sessions", "access_tokens", "audit_events"):
            rows = (await session.execute(text(f"SELECT * FROM {table}"))).all()
            dump.extend(str(value) for row in rows for value in row)
        user = await session.scalar(select(StaffUser).where(StaffUser.username == "casey"))
        stored_link = await session.scalar(select(AccessToken))
        stored_session = await session.scalar(select(StaffSession))
    everything = "\n".join(dump)
    for secret in (PASSWORD, worker.cookie, link_token):
        assert secret not in everything
    assert user is not None
    assert user.password_hash.startswith("$argon2id$")
    assert stored_link is not None
    assert stored_link.token_hash == token_hash(link_token)
    assert stored_session is not None
    assert stored_session.token_hash == token_hash(worker.cookie)


async def test_link_token_is_long_random_and_expires(client: TestClient) -> None:
    """Join links carry at least 128 random bits and stop working once expired."""
    team = await add_team(client, "North")
    worker = await staff_persona(client, "casey", StaffRole.CASEWORKER, team)
    case, person = await add_case(client, worker, "C-1", "Dana Client")
    client_link = link_persona("client", await book(client, worker, case, person))
    assert len(client_link.link_token) >= 43  # 32 bytes in URL-safe base64
    assert (await client_link.call(client, "GET", "/api/link/booking")).status == 200
    async with database(client).transaction() as session:
        await session.execute(
            update(AccessToken).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    response = await client_link.call(client, "GET", "/api/link/booking")
    assert response.status == 401
    assert "expired" in (await response.json())["message"]


async def test_guessing_links_is_throttled(client: TestClient) -> None:
    """An address that keeps presenting invalid links is made to wait."""
    statuses = []
    for attempt in range(22):
        guess = ANONYMOUS.call(
            client, "GET", "/api/link/booking", headers={"Authorization": f"Bearer guess{attempt}"}
        )
        statuses.append((await guess).status)
    assert statuses[:20] == [401] * 20
    assert statuses[20:] == [429, 429]
