"""Visit notes on the record: draft, edit, decide suggestions, sign, add addenda.

A note is a draft until the assigned caseworker signs it. Signing fingerprints the body, the
signer and the time (SHA-256 over canonical JSON, checked by `audit verify`), and from then
on the note never changes: corrections are addenda, each signed by its author when added.
Every saved version is kept as a NoteRevision for the note's history.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from visits.db import utcnow
from visits.errors import Conflict, NotFound
from visits.fingerprints import note_sha256
from visits.models import (
    Booking,
    Client,
    Consent,
    NoteRevision,
    NoteStatus,
    Recording,
    StaffUser,
    Transcript,
    VisitNote,
)
from visits.notes.drafting import NoteFacts, Participant, draft_note_body

Decision = Literal["confirm", "dismiss"]
SUGGESTION_LISTS = ("action_items", "risk_indicators")


async def attach_draft_note(session: AsyncSession, booking_id: uuid.UUID) -> VisitNote:
    """Draft the booking's note from its latest transcript; re-drafting replaces a draft,
    never a signed note (then the existing signed note is returned unchanged)."""
    note = await note_of_booking(session, booking_id)
    if note is not None and note.status is NoteStatus.SIGNED:
        return note
    body = draft_note_body(await _facts(session, booking_id))
    if note is None:
        booking = await session.get(Booking, booking_id)
        if booking is None:
            raise NotFound(f"No booking {booking_id}.")
        note = VisitNote(booking_id=booking_id, case_id=booking.case_id, body=body)
        session.add(note)
        await session.flush()
    else:
        drafted = await session.scalar(
            select(NoteRevision.body)
            .where(NoteRevision.note_id == note.id, NoteRevision.action == "drafted")
            .order_by(NoteRevision.at.desc())
            .limit(1)
        )
        note.body = keep_review(note.body, drafted or {}, body)
    _revision(session, note, "drafted", None)
    return note


EDITABLE = ("purpose", "summary", "topics", "key_statements")


def keep_review(
    current: dict[str, Any], drafted: dict[str, Any], new: dict[str, Any]
) -> dict[str, Any]:
    """A re-draft (a retried transcript) keeps what the caseworker already did to the draft:
    text they changed, decisions on suggestions that are drafted again (same id), and action
    items they confirmed or wrote themselves."""
    body = copy.deepcopy(new)
    for key in EDITABLE:
        if key in current and current.get(key) != drafted.get(key):
            body[key] = copy.deepcopy(current[key])
    for name in SUGGESTION_LISTS:
        decided = {i.get("id"): i for i in current.get(name, []) if i.get("status") != "suggested"}
        for item in body.get(name, []):
            if item["id"] in decided:
                item["status"] = decided.pop(item["id"])["status"]
        if name == "action_items":
            body[name] += [copy.deepcopy(i) for i in decided.values() if i["status"] == "confirmed"]
    return body


async def note_of_booking(session: AsyncSession, booking_id: uuid.UUID) -> VisitNote | None:
    """The booking's note itself (not its addenda)."""
    return await session.scalar(
        select(VisitNote).where(
            VisitNote.booking_id == booking_id, VisitNote.addendum_to_id.is_(None)
        )
    )


def edit(
    note: VisitNote, changes: dict[str, Any], author_id: uuid.UUID, session: AsyncSession
) -> None:
    """Replace editable parts of a draft (already validated by the route's schema)."""
    _check_draft(note)
    body = copy.deepcopy(note.body)
    body.update(changes)
    note.body = body
    _revision(session, note, "edited", author_id)


def decide(
    note: VisitNote,
    item_id: uuid.UUID,
    decision: Decision,
    author_id: uuid.UUID,
    session: AsyncSession,
) -> dict[str, Any]:
    """Confirm or dismiss one suggested action item or risk indicator."""
    _check_draft(note)
    body = copy.deepcopy(note.body)
    for name in SUGGESTION_LISTS:
        for item in body.get(name, []):
            if item.get("id") == str(item_id):
                item["status"] = "confirmed" if decision == "confirm" else "dismissed"
                note.body = body
                _revision(session, note, "decided", author_id)
                return dict(item)
    raise NotFound(f"No suggestion {item_id} in note {note.id}.")


def sign(note: VisitNote, signer_id: uuid.UUID, session: AsyncSession) -> None:
    """Sign the draft: every suggestion must have been confirmed or dismissed first."""
    _check_draft(note)
    open_items = [
        item.get("text") or item.get("line") or item.get("id")
        for name in SUGGESTION_LISTS
        for item in note.body.get(name, [])
        if item.get("status") == "suggested"
    ]
    if open_items:
        raise Conflict(
            f"Confirm or dismiss every suggestion before signing ({len(open_items)} open: "
            f"{open_items[0]!r}...).",
            open=len(open_items),
        )
    note.status = NoteStatus.SIGNED
    note.signed_by_id = signer_id
    note.signed_at = utcnow()
    note.sha256 = fingerprint(note)
    _revision(session, note, "signed", signer_id)


async def add_addendum(
    session: AsyncSession, note: VisitNote, text: str, author_id: uuid.UUID
) -> VisitNote:
    """A correction or later fact about a signed note, signed by its author as it is added."""
    if note.status is not NoteStatus.SIGNED:
        raise Conflict("Addenda are for signed notes; edit the draft instead.")
    if note.addendum_to_id is not None:
        raise Conflict("Add the addendum to the note itself, not to another addendum.")
    addendum = VisitNote(
        booking_id=note.booking_id,
        case_id=note.case_id,
        addendum_to_id=note.id,
        status=NoteStatus.SIGNED,
        body={"text": text},
        signed_by_id=author_id,
        signed_at=utcnow(),
    )
    session.add(addendum)
    await session.flush()
    addendum.sha256 = fingerprint(addendum)
    _revision(session, addendum, "signed", author_id)
    return addendum


def fingerprint(note: VisitNote) -> str:
    """SHA-256 over what a signature covers (defined in visits.fingerprints, which
    `audit verify` recomputes)."""
    return note_sha256(note)


def _check_draft(note: VisitNote) -> None:
    if note.status is NoteStatus.SIGNED:
        raise Conflict("This note is signed and cannot change; add an addendum instead.")


def _revision(
    session: AsyncSession, note: VisitNote, action: str, author_id: uuid.UUID | None
) -> None:
    session.add(
        NoteRevision(
            note_id=note.id, action=action, body=copy.deepcopy(note.body), author_id=author_id
        )
    )


async def _facts(session: AsyncSession, booking_id: uuid.UUID) -> NoteFacts:
    booking = await session.get(Booking, booking_id)
    if booking is None:
        raise NotFound(f"No booking {booking_id}.")
    caseworker = await session.get(StaffUser, booking.caseworker_id)
    client = await session.get(Client, booking.client_id)
    consents = list(
        await session.scalars(
            select(Consent).where(Consent.booking_id == booking_id).order_by(Consent.answered_at)
        )
    )
    recordings = list(
        await session.scalars(select(Recording).where(Recording.booking_id == booking_id))
    )
    transcript = await session.scalar(
        select(Transcript)
        .where(Transcript.booking_id == booking_id, Transcript.status == "done")
        .order_by(Transcript.created_at.desc())
        .limit(1)
    )
    people: dict[tuple[str, str], bool | None] = {}
    if caseworker is not None:
        people[("caseworker", caseworker.display_name)] = None
    for consent in consents:
        people[(consent.participant_role, consent.participant_name)] = (
            consent.choice.value == "accepted"
        )
    for recording in recordings:
        if recording.participant_role:
            people.setdefault((recording.participant_role, recording.participant_name), None)
    if client is not None and not any(role == "client" for role, _ in people):
        people[("client", client.full_name)] = None
    provenance: dict[str, Any] = {}
    if transcript is not None:
        provenance = {
            "engine": transcript.engine,
            "model": transcript.model,
            "versions": transcript.versions or {},
            "transcript_sha256": transcript.sha256,
        }
    return NoteFacts(
        start_at=booking.started_at or booking.start_at,
        end_at=booking.ended_at or booking.end_at,
        time_zone=booking.time_zone,
        purpose=booking.purpose,
        modality="video" if any(r.kind == "video" for r in recordings) else "audio only",
        participants=tuple(Participant(role, name, ok) for (role, name), ok in people.items()),
        consents=tuple(
            {
                "role": c.participant_role,
                "name": c.participant_name,
                "choice": c.choice.value,
                "notice_version": c.notice_version,
                "language": c.language,
                "answered_at": c.answered_at.isoformat(),
            }
            for c in consents
        ),
        segments=tuple(transcript.segments) if transcript is not None else (),
        provenance=provenance,
    )
