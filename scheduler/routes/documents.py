"""Documents a caseworker asks a client for, uploaded from the client's visit link."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated
from urllib.parse import unquote

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select

from scheduler.models import DocumentRequest, UploadedDocument
from scheduler.uploads import receive, remove
from visits import audit
from visits.access import (
    Audience,
    booking_for,
    case_for,
    link_reaches,
    may_change_case,
    may_change_own_visit,
)
from visits.bookings import check_client_of_case
from visits.errors import Forbidden, NotFound
from visits.web.api import Api, Call
from visits.web.schemas import Out

NAME_HEADER = "X-File-Name"


class DocumentRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: uuid.UUID
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)
    ]


class UploadOut(Out):
    id: uuid.UUID
    request_id: uuid.UUID
    media_type: str
    size: int
    sha256: str
    original_name: str
    uploaded_at: datetime


class DocumentRequestOut(Out):
    id: uuid.UUID
    case_id: uuid.UUID
    client_id: uuid.UUID
    description: str
    open: bool
    created_at: datetime
    uploads: list[UploadOut] = Field(default_factory=list)


class Received(BaseModel):
    """What the client sees after an upload: it arrived, and what it was."""

    id: uuid.UUID
    media_type: str
    size: int


async def ask_for_document(call: Call[DocumentRequestIn, None]) -> DocumentRequestOut:
    async with call.db.transaction() as session:
        case = await case_for(session, call.principal, call.ids["case_id"])
        if not may_change_case(call.principal, case):
            raise Forbidden("Only the assigned caseworker or a supervisor may ask for documents.")
        await check_client_of_case(session, case, call.body.client_id)
        request = DocumentRequest(
            case_id=case.id,
            client_id=call.body.client_id,
            description=call.body.description,
            requested_by_id=call.staff.user_id,
        )
        session.add(request)
        await session.flush()
        await audit.append(session, call.actor, "document.request", "case", case.id)
        return DocumentRequestOut.model_validate(request)


async def case_documents(call: Call[None, None]) -> list[DocumentRequestOut]:
    async with call.db.transaction() as session:
        case = await case_for(session, call.principal, call.ids["case_id"])
        requests = {
            r.id: DocumentRequestOut.model_validate(r)
            for r in await session.scalars(
                select(DocumentRequest)
                .where(DocumentRequest.case_id == case.id)
                .order_by(DocumentRequest.created_at)
            )
        }
        for upload in await session.scalars(
            select(UploadedDocument)
            .where(UploadedDocument.case_id == case.id)
            .order_by(UploadedDocument.uploaded_at)
        ):
            requests[upload.request_id].uploads.append(UploadOut.model_validate(upload))
        await audit.append(session, call.actor, "document.list", "case", case.id)
    return list(requests.values())


async def download_document(call: Call[None, None]) -> web.StreamResponse:
    async with call.db.transaction() as session:
        document = await session.get(UploadedDocument, call.ids["document_id"])
        if document is None:
            raise NotFound(f"No document {call.ids['document_id']} that you can see.")
        await case_for(session, call.principal, document.case_id)  # 404 outside one's cases
        await audit.append(session, call.actor, "document.download", "document", document.id)
    path = call.settings.data_dir / document.path
    if not path.is_file():
        raise NotFound("The file of this document is missing from the data directory.")
    extension = path.suffix
    return web.FileResponse(
        path,
        headers={
            "Content-Type": document.media_type,
            "Content-Disposition": f'attachment; filename="document-{document.id}{extension}"',
            "Cache-Control": "no-store",
        },
    )


async def upload_document(call: Call[None, None]) -> Received:
    link = may_change_own_visit(call.principal)
    async with call.db.transaction() as session:
        booking = await booking_for(session, link, link.booking_id)
        request = await session.get(DocumentRequest, call.ids["request_id"])
        if request is None or not link_reaches(booking, request.case_id, request.client_id):
            raise NotFound("No such document request for you.")
        if not request.open:
            raise NotFound("This document is no longer needed.")
    document_id = uuid.uuid4()
    stored = await receive(
        call.request,
        call.settings.data_dir,
        str(request.case_id),
        document_id,
        call.settings.upload_max_bytes,
    )
    original = unquote(call.request.headers.get(NAME_HEADER, ""))[:200]
    try:
        async with call.db.transaction() as session:
            session.add(
                UploadedDocument(
                    id=document_id,
                    request_id=request.id,
                    case_id=request.case_id,
                    media_type=stored.kind.media_type,
                    size=stored.size,
                    sha256=stored.sha256,
                    path=stored.path,
                    original_name="".join(c for c in original if c.isprintable()),
                    uploaded_by_link_id=link.token_id,
                )
            )
            await session.flush()
            await audit.append(
                session,
                call.actor,
                "document.upload",
                "document",
                document_id,
                details={"request_id": str(request.id), "sha256": stored.sha256},
            )
    except BaseException:
        remove(call.settings.data_dir, stored.path)
        raise
    return Received(id=document_id, media_type=stored.kind.media_type, size=stored.size)


def register(api: Api) -> None:
    route = api.route
    route(
        "POST",
        "/api/cases/{case_id}/document-requests",
        summary="Ask a client of the case for a document or photo",
        audience=Audience.CASE_STAFF,
        body=DocumentRequestIn,
        response=DocumentRequestOut,
        status=201,
        tag="documents",
    )(ask_for_document)
    route(
        "GET",
        "/api/cases/{case_id}/documents",
        summary="Documents asked for on the case, with what clients uploaded",
        audience=Audience.CASE_STAFF,
        response=list[DocumentRequestOut],
        tag="documents",
    )(case_documents)
    route(
        "GET",
        "/api/documents/{document_id}",
        summary="Download an uploaded document",
        audience=Audience.CASE_STAFF,
        raw_response="application/octet-stream",
        tag="documents",
    )(download_document)
    route(
        "POST",
        "/api/link/documents/{request_id}",
        summary="Upload a file for a document request (raw body: PDF, JPEG, PNG or HEIC)",
        audience=Audience.LINK,
        response=Received,
        status=201,
        tag="link",
        errors=(404, 413, 415),
    )(upload_document)
