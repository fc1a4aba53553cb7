"""HTTP routes of visit notes: read, edit the draft, decide suggestions, sign, addenda, export."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from visits import audit
from visits.access import Audience, booking_for, case_for, check_note_author, note_for
from visits.errors import NotFound
from visits.models import NoteRevision, StaffUser, VisitNote
from visits.notes import service
from visits.notes.export import CONTENT_TYPES, as_html, as_text, note_dict
from visits.web.api import Api, Call, json_response
from visits.web.schemas import refuse_nulls

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)]


class KeyStatement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: float | None = None
    speaker: Annotated[str, StringConstraints(max_length=300)] = ""
    text: Short


class ActionItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    text: Short
    owner: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] = ""
    due: datetime | None = None
    at: float | None = None
    speaker: Annotated[str, StringConstraints(max_length=300)] = ""
    status: Literal["suggested", "confirmed", "dismissed"] = "confirmed"


class NoteChanges(BaseModel):
    """The parts of a draft the caseworker writes; risk suggestions change only by decision."""

    model_config = ConfigDict(extra="forbid")

    purpose: Text | None = None
    summary: Text | None = None
    topics: list[Annotated[str, StringConstraints(max_length=100)]] | None = None
    key_statements: list[KeyStatement] | None = Field(None, max_length=100)
    action_items: list[ActionItem] | None = Field(None, max_length=100)

    @model_validator(mode="after")
    def _something(self) -> NoteChanges:
        if not self.model_fields_set:
            raise ValueError("send at least one of: " + ", ".join(type(self).model_fields))
        refuse_nulls(self, tuple(type(self).model_fields))
        return self


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["confirm", "dismiss"]


class AddendumIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]


class ExportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["json", "text", "html"] = "json"


class AddendumOut(BaseModel):
    id: str
    text: str
    signed_by: str | None
    signed_at: str | None
    sha256: str | None


class NoteOut(BaseModel):
    """A note with its state; `body` has the shape described in docs/notes.md."""

    id: str
    booking_id: str
    case_id: str
    status: Literal["draft", "signed"]
    signed_by: str | None
    signed_at: str | None
    sha256: str | None
    updated_at: str | None
    body: dict[str, Any]
    addenda: list[AddendumOut]


class RevisionOut(BaseModel):
    action: str
    author: str | None
    at: datetime
    body: dict[str, Any]


class NoteSummary(BaseModel):
    id: str
    booking_id: str
    status: Literal["draft", "signed"]
    visit_date: str | None
    signed_at: datetime | None
    addenda: int


async def _out(session: AsyncSession, note: VisitNote) -> dict[str, Any]:
    addenda = list(
        await session.scalars(
            select(VisitNote)
            .where(VisitNote.addendum_to_id == note.id)
            .order_by(VisitNote.signed_at)
        )
    )
    signers = {n.signed_by_id for n in (note, *addenda) if n.signed_by_id}
    return note_dict(note, addenda, await _names(session, signers))


async def _names(session: AsyncSession, ids: set[Any]) -> dict[Any, str]:
    if not ids:
        return {}
    rows = await session.execute(
        select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(ids))
    )
    return {row.id: row.display_name for row in rows}


async def _main_note(session: AsyncSession, call: Call[Any, Any]) -> VisitNote:
    note = await note_for(session, call.principal, call.ids["note_id"])
    if note.addendum_to_id is not None:
        raise NotFound(f"Note {note.id} is an addendum; use its note {note.addendum_to_id}.")
    return note


async def get_booking_note(call: Call[None, None]) -> dict[str, Any]:
    async with call.db.transaction() as session:
        booking = await booking_for(session, call.principal, call.ids["booking_id"])
        note = await service.note_of_booking(session, booking.id)
        if note is None:
            raise NotFound(f"Visit {booking.id} has no note yet.")
        await audit.append(session, call.actor, "note.view", "note", note.id)
        return await _out(session, note)


async def edit_note(call: Call[NoteChanges, None]) -> dict[str, Any]:
    async with call.db.transaction() as session:
        note = await _main_note(session, call)
        await check_note_author(session, call.principal, note)
        # Only the fields sent, but each in full: a key statement sent without a speaker
        # still gets its default "", which exports and sign-off rely on.
        sent = call.body.model_fields_set
        changes = {k: v for k, v in call.body.model_dump(mode="json").items() if k in sent}
        service.edit(note, changes, call.staff.user_id, session)
        await audit.append(
            session, call.actor, "note.edit", "note", note.id, details={"fields": sorted(changes)}
        )
        return await _out(session, note)


async def decide_suggestion(call: Call[DecisionIn, None]) -> dict[str, Any]:
    async with call.db.transaction() as session:
        note = await _main_note(session, call)
        await check_note_author(session, call.principal, note)
        item = service.decide(
            note, call.ids["item_id"], call.body.decision, call.staff.user_id, session
        )
        await audit.append(
            session,
            call.actor,
            "note.decide",
            "note",
            note.id,
            details={"item": item["id"], "decision": call.body.decision},
        )
        return await _out(session, note)


async def sign_note(call: Call[None, None]) -> dict[str, Any]:
    async with call.db.transaction() as session:
        note = await _main_note(session, call)
        await check_note_author(session, call.principal, note)
        service.sign(note, call.staff.user_id, session)
        await audit.append(
            session, call.actor, "note.sign", "note", note.id, details={"sha256": note.sha256}
        )
        return await _out(session, note)


async def add_addendum(call: Call[AddendumIn, None]) -> dict[str, Any]:
    async with call.db.transaction() as session:
        note = await _main_note(session, call)
        await check_note_author(session, call.principal, note)
        addendum = await service.add_addendum(session, note, call.body.text, call.staff.user_id)
        await audit.append(
            session,
            call.actor,
            "note.addendum",
            "note",
            note.id,
            details={"addendum": str(addendum.id)},
        )
        return await _out(session, note)


async def export_note(call: Call[None, ExportQuery]) -> web.Response:
    kind = call.query.format
    async with call.db.transaction() as session:
        note = await _main_note(session, call)
        data = await _out(session, note)
        await audit.append(
            session, call.actor, "note.export", "note", note.id, details={"format": kind}
        )
    date = data["body"].get("visit", {}).get("date", "visit")
    extension = "txt" if kind == "text" else kind
    headers = {
        "Content-Disposition": f'inline; filename="visit-note-{date}.{extension}"',
        "Cache-Control": "no-store",
    }
    if kind == "json":
        response = json_response(data)
        response.headers.update(headers)
        return response
    text = as_text(data) if kind == "text" else as_html(data)
    return web.Response(
        text=text, content_type=CONTENT_TYPES[kind].split(";")[0], charset="utf-8", headers=headers
    )


async def note_history(call: Call[None, None]) -> list[RevisionOut]:
    async with call.db.transaction() as session:
        note = await note_for(session, call.principal, call.ids["note_id"])
        revisions = list(
            await session.scalars(
                select(NoteRevision)
                .where(NoteRevision.note_id == note.id)
                .order_by(NoteRevision.at)
            )
        )
        names = await _names(session, {r.author_id for r in revisions if r.author_id})
        await audit.append(session, call.actor, "note.history", "note", note.id)
    return [
        RevisionOut(
            action=r.action,
            author=names.get(r.author_id) if r.author_id else "system",
            at=r.at,
            body=r.body,
        )
        for r in revisions
    ]


async def case_notes(call: Call[None, None]) -> list[NoteSummary]:
    async with call.db.transaction() as session:
        case = await case_for(session, call.principal, call.ids["case_id"])
        notes = list(
            await session.scalars(
                select(VisitNote).where(VisitNote.case_id == case.id).order_by(VisitNote.created_at)
            )
        )
        await audit.append(session, call.actor, "note.list", "case", case.id)
    addenda: dict[Any, int] = {}
    for n in notes:
        if n.addendum_to_id:
            addenda[n.addendum_to_id] = addenda.get(n.addendum_to_id, 0) + 1
    return [
        NoteSummary(
            id=str(n.id),
            booking_id=str(n.booking_id),
            status=n.status.value,
            visit_date=n.body.get("visit", {}).get("date"),
            signed_at=n.signed_at,
            addenda=addenda.get(n.id, 0),
        )
        for n in notes
        if n.addendum_to_id is None
    ]


def register(api: Api) -> None:
    route = api.route
    route(
        "GET",
        "/api/bookings/{booking_id}/note",
        summary="The visit's note (draft or signed) with its addenda",
        audience=Audience.CASE_STAFF,
        response=NoteOut,
        tag="notes",
    )(get_booking_note)
    route(
        "GET",
        "/api/cases/{case_id}/notes",
        summary="The notes of a case, oldest first",
        audience=Audience.CASE_STAFF,
        response=list[NoteSummary],
        tag="notes",
    )(case_notes)
    route(
        "PUT",
        "/api/notes/{note_id}",
        summary="Edit a draft note (409 once signed)",
        audience=Audience.CASEWORKER,
        body=NoteChanges,
        response=NoteOut,
        tag="notes",
        errors=(409,),
    )(edit_note)
    route(
        "POST",
        "/api/notes/{note_id}/suggestions/{item_id}",
        summary="Confirm or dismiss a suggested action item or risk indicator",
        audience=Audience.CASEWORKER,
        body=DecisionIn,
        response=NoteOut,
        tag="notes",
        errors=(409,),
    )(decide_suggestion)
    route(
        "POST",
        "/api/notes/{note_id}/sign",
        summary="Sign the draft (every suggestion decided first); it never changes after",
        audience=Audience.CASEWORKER,
        response=NoteOut,
        tag="notes",
        errors=(409,),
    )(sign_note)
    route(
        "POST",
        "/api/notes/{note_id}/addenda",
        summary="Add a signed addendum to a signed note",
        audience=Audience.CASEWORKER,
        body=AddendumIn,
        response=NoteOut,
        status=201,
        tag="notes",
        errors=(409,),
    )(add_addendum)
    route(
        "GET",
        "/api/notes/{note_id}/export",
        summary="The note as JSON, plain text or printable HTML",
        audience=Audience.CASE_STAFF,
        query=ExportQuery,
        tag="notes",
        raw_response="text/html",
    )(export_note)
    route(
        "GET",
        "/api/notes/{note_id}/history",
        summary="Every saved version of a note, oldest first",
        audience=Audience.CASE_STAFF,
        response=list[RevisionOut],
        tag="notes",
    )(note_history)
