"""The API's common behaviour: its OpenAPI document, health check and JSON errors."""

from __future__ import annotations

import io
import json

import pytest
from aiohttp.test_utils import TestClient

from tests.databases import ENGINES, POSTGRES_ADMIN_URL
from tests.world import staff_persona
from visits.models import StaffRole


async def test_openapi_lists_every_api_route(client: TestClient) -> None:
    """Every route the server answers under /api (and /healthz) is in the OpenAPI document."""
    response = await client.get("/api/openapi.json")
    document = await response.json()
    assert document["openapi"].startswith("3.")
    documented = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    served = {
        (route.method, route.resource.canonical)
        for route in client.server.app.router.routes()
        if route.resource is not None
        and route.method != "HEAD"
        and (route.resource.canonical.startswith("/api/") or route.resource.canonical == "/healthz")
    }
    assert served == documented
    for path, item in document["paths"].items():
        for operation in item.values():
            assert operation["summary"], path
            assert operation["responses"], path


async def test_health_reports_a_reachable_database(client: TestClient) -> None:
    """GET /healthz says ok when the database answers."""
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize("database_url", [e for e in ENGINES if e == "postgresql"], indirect=True)
async def test_health_reports_an_unreachable_database(
    client: TestClient, database_url: str
) -> None:
    """GET /healthz answers 503 naming the database when it is gone."""
    import asyncpg

    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE "{database_url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await admin.close()
    response = await client.get("/healthz")
    assert response.status == 503
    assert (await response.json())["database"] == "unreachable"


async def test_unknown_path_and_method_answer_json(client: TestClient) -> None:
    """Wrong paths and methods get JSON errors that say what was wrong."""
    missing = await client.get("/api/nothing-here")
    assert missing.status == 404
    assert (await missing.json())["message"] == "Nothing at /api/nothing-here."
    wrong_method = await client.put("/api/cases")
    assert wrong_method.status == 405
    assert "PUT is not allowed" in (await wrong_method.json())["message"]


async def test_bad_bodies_get_messages_naming_the_problem(client: TestClient) -> None:
    """Malformed JSON, wrong types and missing fields are 4xx answers naming the field."""
    admin = await staff_persona(client, "root", StaffRole.ADMIN, None)
    headers = admin.headers("POST")
    broken = await client.post(
        "/api/teams", data="{not json", headers=headers | {"Content-Type": "application/json"}
    )
    assert broken.status == 400
    assert "not valid JSON" in (await broken.json())["message"]
    not_json = await client.post(
        "/api/teams", data="name=x", headers=headers | {"Content-Type": "text/plain"}
    )
    assert not_json.status == 415
    missing = await admin.call(client, "POST", "/api/teams", json={})
    assert missing.status == 400
    assert "body.name" in (await missing.json())["message"]
    extra = await admin.call(client, "POST", "/api/teams", json={"name": "x", "colour": "red"})
    assert extra.status == 400
    assert "colour" in (await extra.json())["message"]


async def test_malformed_ids_are_not_found(client: TestClient) -> None:
    """A path id that is not a UUID gets 404 with a message, not a server error."""
    admin = await staff_persona(client, "root", StaffRole.ADMIN, None)
    response = await admin.call(client, "PATCH", "/api/staff/../../etc", json={})
    assert response.status == 404
    response = await admin.call(client, "PATCH", "/api/staff/123", json={"active": True})
    assert response.status == 404
    assert "not a valid id" in (await response.json())["message"]


async def test_oversized_body_is_refused(client: TestClient) -> None:
    """Bodies over the limit get 413 before anything is stored."""
    admin = await staff_persona(client, "root", StaffRole.ADMIN, None)
    body = io.BytesIO(json.dumps({"name": "x" * 2_000_000}).encode())
    response = await admin.call(
        client, "POST", "/api/teams", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == 413
    assert (await response.json())["error"] == "request_entity_too_large"
