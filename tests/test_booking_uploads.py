"""Clients send the documents their caseworker asked for; bad files are refused, none kept."""

from __future__ import annotations

import io
from pathlib import Path

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update

from scheduler.models import UploadedDocument
from tests.scheduling import add_office_hours, days_ahead
from tests.world import Persona, add_case, add_team, book, database, link_persona, staff_persona
from visits.models import AccessToken, AuditEvent, StaffRole
from visits.web.keys import SETTINGS

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HEIC = b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64


async def asked(client: TestClient) -> tuple[Persona, Persona, str, str]:
    team = await add_team(client, "North")
    worker = await staff_persona(client, "casey", StaffRole.CASEWORKER, team)
    await add_office_hours(client, worker)
    case, person = await add_case(client, worker, "N-1", "Alice Alpha")
    booking = await book(client, worker, case, person, days_ahead(2, 9))
    request = await worker.call(
        client,
        "POST",
        f"/api/cases/{case.id}/document-requests",
        json={"client_id": str(person.id), "description": "A photo of your lease"},
    )
    return worker, link_persona("client", booking), (await request.json())["id"], str(case.id)


def stored_files(client: TestClient) -> list[Path]:
    uploads = client.server.app[SETTINGS].data_dir / "uploads"
    return sorted(p for p in uploads.rglob("*") if p.is_file()) if uploads.exists() else []


async def test_client_sends_a_requested_photo_and_the_caseworker_downloads_it(
    client: TestClient,
) -> None:
    """The upload is listed on the case, downloadable by the caseworker, and audited."""
    worker, visitor, request_id, case_id = await asked(client)
    visit = await (await visitor.call(client, "GET", "/api/link/visit")).json()
    assert [r["description"] for r in visit["document_requests"]] == ["A photo of your lease"]
    sent = await visitor.call(
        client,
        "POST",
        f"/api/link/documents/{request_id}",
        data=HEIC,
        headers={"Content-Type": "image/heic", "X-File-Name": "IMG_0001%20lease.HEIC"},
    )
    assert sent.status == 201, await sent.text()
    assert (await sent.json())["media_type"] == "image/heic"
    (stored,) = stored_files(client)
    assert stored.name == f"{(await sent.json())['id']}.heic"  # a generated name
    listed = await (await worker.call(client, "GET", f"/api/cases/{case_id}/documents")).json()
    (upload,) = listed[0]["uploads"]
    assert upload["original_name"] == "IMG_0001 lease.HEIC"
    download = await worker.call(client, "GET", f"/api/documents/{upload['id']}")
    assert download.status == 200
    assert await download.read() == HEIC
    async with database(client).transaction() as session:
        actions = set(await session.scalars(select(AuditEvent.action)))
    assert {"document.upload", "document.download", "document.list"} <= actions


async def test_wrong_type_too_large_and_expired_links_store_nothing(service) -> None:  # type: ignore[no-untyped-def]
    """A text file, a file over the limit and an expired link each get a clear message."""
    client = await service(upload_max_mb=1)
    _, visitor, request_id, _ = await asked(client)
    path = f"/api/link/documents/{request_id}"
    text = await visitor.call(client, "POST", path, data=b"hello, this is not a photo")
    assert text.status == 415
    assert "PDF, JPEG, PNG or HEIC" in (await text.json())["message"]
    big = await visitor.call(client, "POST", path, data=io.BytesIO(PNG + b"\x00" * (1024 * 1024)))
    assert big.status == 413
    assert "larger than 1 MB" in (await big.json())["message"]
    empty = await visitor.call(client, "POST", path, data=b"")
    assert empty.status == 400
    async with database(client).transaction() as session:
        await session.execute(update(AccessToken).values(expires_at=days_ahead(-1)))
    expired = await visitor.call(client, "POST", path, data=PNG)
    assert expired.status == 401
    assert "expired" in (await expired.json())["message"]
    assert stored_files(client) == []
    async with database(client).transaction() as session:
        assert await session.scalar(select(func.count()).select_from(UploadedDocument)) == 0
