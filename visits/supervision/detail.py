"""One visit's whole record for its supervisor: who took part and consented, the recordings,
the transcript, the note with its addenda and history, reviews, and its audit trail."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, MetaData, Table, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from visits.db import Base
from visits.models import (
    AccessToken,
    AuditEvent,
    Booking,
    Case,
    Client,
    Consent,
    Recording,
    RecordingStatus,
    StaffUser,
    Transcript,
    VisitNote,
)
from visits.supervision.media import media_type
from visits.supervision.models import VisitReview
from visits.supervision.schemas import (
    AuditEntry,
    ConsentOut,
    NoteOut,
    Participant,
    RecordingOut,
    ReviewOut,
    SignalOut,
    TranscriptOut,
    VisitDetail,
)
from visits.supervision.signals import Signal
from visits.web.schemas import BookingOut

AUDIT_TRAIL_LIMIT = 1000
NOTE_HISTORY_TABLE = "note_revisions"  # kept by the notes package, when it is installed
_HISTORY_ORDER = ("revision", "version", "number", "created_at", "at", "edited_at", "id")


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


async def staff_names(session: AsyncSession, ids: Iterable[uuid.UUID | None]) -> dict[Any, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(
        select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(wanted))
    )
    return dict(rows.all())


async def audit_trail(session: AsyncSession, object_ids: Sequence[str]) -> list[AuditEntry]:
    """Events on any of the visit's records, oldest first, with the actors' names."""
    events = list(
        await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_id.in_(object_ids))
            .order_by(AuditEvent.id.desc())
            .limit(AUDIT_TRAIL_LIMIT)
        )
    )
    events.reverse()
    staff_ids = {_uuid(e.actor_id) for e in events if e.actor_kind == "staff"}
    link_ids = {_uuid(e.actor_id) for e in events if e.actor_kind == "client"} - {None}
    names: dict[Any, str] = await staff_names(session, staff_ids)
    if link_ids:
        rows = await session.execute(
            select(AccessToken.id, AccessToken.display_name).where(AccessToken.id.in_(link_ids))
        )
        names.update(rows.all())

    def name_of(event: AuditEvent) -> str:
        if event.actor_kind == "system":
            return "System"
        return names.get(_uuid(event.actor_id), "") or event.actor_kind

    return [
        AuditEntry(
            at=e.at,
            actor_kind=e.actor_kind,
            actor_id=e.actor_id,
            actor_name=name_of(e),
            actor_role=e.actor_role,
            action=e.action,
            object_type=e.object_type,
            object_id=e.object_id,
            outcome=e.outcome,
            details=e.details or {},
        )
        for e in events
    ]


def _plain(value: Any) -> Any:
    """A history cell as JSON: naive times are UTC (visits.db stores them so)."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return None
    return value


def _history_table(connection: Connection, name: str) -> Table | None:
    if not inspect(connection).has_table(name):
        return None
    known = Base.metadata.tables.get(name)
    if known is not None:
        return known
    return Table(name, MetaData(), autoload_with=connection)


async def note_history(
    session: AsyncSession, note_ids: Sequence[uuid.UUID], table_name: str = NOTE_HISTORY_TABLE
) -> list[dict[str, Any]]:
    """Earlier versions of the visit's notes, if the notes package keeps a history table.

    Read by reflection and only by its obvious columns (a note id column, an order column),
    so this works whatever else that table holds, and yields nothing when it is absent.
    """
    if not note_ids:
        return []
    table = await session.run_sync(lambda s: _history_table(s.connection(), table_name))
    if table is None:
        return []
    key = next((table.c[n] for n in ("note_id", "visit_note_id") if n in table.c), None)
    if key is None:
        return []
    # A reflected SQLite table sees UUID columns as CHAR(32) hex; mapped ones take UUIDs.
    plain = session.bind.dialect.name == "sqlite" and table is not Base.metadata.tables.get(
        table_name
    )
    values = [i.hex for i in note_ids] if plain else list(note_ids)
    order = [table.c[n] for n in _HISTORY_ORDER if n in table.c][:1]
    rows = await session.execute(select(table).where(key.in_(values)).order_by(*order).limit(500))
    return [{k: _plain(v) for k, v in row._mapping.items()} for row in rows]


def _participants(
    caseworker: StaffUser, tokens: Sequence[AccessToken], consents: Sequence[Consent]
) -> list[Participant]:
    """The caseworker and everyone invited by link, each with their last recording answer."""
    by_staff = {c.staff_user_id: c.choice.value for c in consents if c.staff_user_id}
    by_link = {c.access_token_id: c.choice.value for c in consents if c.access_token_id}
    people = [
        Participant(
            role="caseworker",
            name=caseworker.display_name,
            kind="staff",
            consent=by_staff.get(caseworker.id),
        )
    ]
    seen: dict[tuple[str, str], Participant] = {}
    for token in tokens:
        key = (token.role.value, token.display_name)
        person = seen.get(key)
        if person is None:
            person = seen[key] = Participant(
                role=token.role.value, name=token.display_name, kind="link", consent=None
            )
            people.append(person)
        person.consent = by_link.get(token.id, person.consent)
    for consent in consents:  # other staff who joined and answered the notice
        if consent.staff_user_id and consent.staff_user_id != caseworker.id:
            people.append(
                Participant(
                    role=consent.participant_role,
                    name=consent.participant_name,
                    kind="staff",
                    consent=consent.choice.value,
                )
            )
    return people


def recording_out(recording: Recording) -> RecordingOut:
    url = f"/api/recordings/{recording.id}/media"
    return RecordingOut(
        id=recording.id,
        kind=recording.kind,
        participant_role=recording.participant_role,
        participant_name=recording.participant_name,
        offset_seconds=recording.offset_seconds,
        duration_seconds=recording.duration_seconds,
        sha256=recording.sha256,
        status=recording.status.value,
        media_type=media_type(recording),
        url=url,
        download_url=f"{url}?download=true",
    )


def playback_choice(recordings: Sequence[Recording]) -> Recording | None:
    """The mixed playback file if there is one, else the caseworker's or any audio track."""
    playable = [r for r in recordings if r.status is not RecordingStatus.DELETED]
    for wanted in ("playback", "audio", "video"):
        matching = [r for r in playable if r.kind == wanted]
        if matching:
            return min(
                matching, key=lambda r: (r.participant_role != "caseworker", r.offset_seconds)
            )
    return None


def _note_out(note: VisitNote, names: dict[Any, str], addenda: list[NoteOut]) -> NoteOut:
    return NoteOut(
        id=note.id,
        status=note.status.value,
        body=note.body if isinstance(note.body, dict) else {},
        signed_by_name=names.get(note.signed_by_id) if note.signed_by_id else None,
        signed_at=note.signed_at,
        sha256=note.sha256,
        created_at=note.created_at,
        updated_at=note.updated_at,
        addenda=addenda,
    )


async def visit_detail(
    session: AsyncSession, booking: Booking, signals: Sequence[Signal]
) -> VisitDetail:
    case = await session.get(Case, booking.case_id)
    client = await session.get(Client, booking.client_id)
    caseworker = await session.get(StaffUser, booking.caseworker_id)
    assert case is not None
    assert client is not None
    assert caseworker is not None
    consents = list(
        await session.scalars(
            select(Consent).where(Consent.booking_id == booking.id).order_by(Consent.answered_at)
        )
    )
    tokens = list(
        await session.scalars(
            select(AccessToken)
            .where(AccessToken.booking_id == booking.id)
            .order_by(AccessToken.created_at)
        )
    )
    recordings = list(
        await session.scalars(
            select(Recording)
            .where(Recording.booking_id == booking.id)
            .order_by(Recording.offset_seconds, Recording.created_at)
        )
    )
    transcripts = list(
        await session.scalars(
            select(Transcript)
            .where(Transcript.booking_id == booking.id)
            .order_by(Transcript.created_at)
        )
    )
    done = [t for t in transcripts if t.status == "done"]
    transcript = (done or transcripts or [None])[-1]
    notes = list(
        await session.scalars(
            select(VisitNote)
            .where(VisitNote.booking_id == booking.id)
            .order_by(VisitNote.created_at)
        )
    )
    reviews = list(
        await session.scalars(
            select(VisitReview)
            .where(VisitReview.booking_id == booking.id)
            .order_by(VisitReview.created_at)
        )
    )
    names = await staff_names(
        session, [n.signed_by_id for n in notes] + [r.reviewer_id for r in reviews]
    )
    main = [n for n in notes if n.addendum_to_id is None]
    note = None
    if main:
        addenda = [_note_out(n, names, []) for n in notes if n.addendum_to_id == main[-1].id]
        note = _note_out(main[-1], names, addenda)
    playback = playback_choice(recordings)
    object_ids = [
        str(booking.id),
        *(str(r.id) for r in recordings),
        *(str(t.id) for t in transcripts),
        *(str(n.id) for n in notes),
    ]
    return VisitDetail(
        booking=BookingOut.model_validate(booking),
        case_number=case.case_number,
        client_name=client.full_name,
        caseworker_name=caseworker.display_name,
        participants=_participants(caseworker, tokens, consents),
        consents=[ConsentOut.model_validate(c) for c in consents],
        recordings=[recording_out(r) for r in recordings],
        playback_recording_id=playback.id if playback else None,
        transcript=TranscriptOut(
            id=transcript.id,
            status=transcript.status,
            engine=transcript.engine,
            model=transcript.model,
            segments=[s for s in transcript.segments or [] if isinstance(s, dict)],
            text=transcript.text,
            sha256=transcript.sha256,
            completed_at=transcript.completed_at,
        )
        if transcript
        else None,
        note=note,
        note_history=await note_history(session, [n.id for n in notes]),
        signals=[SignalOut(**s.__dict__) for s in signals],
        reviews=[review_out(r, names) for r in reviews],
        audit=await audit_trail(session, object_ids),
    )


def review_out(review: VisitReview, names: dict[Any, str]) -> ReviewOut:
    return ReviewOut(
        id=review.id,
        booking_id=review.booking_id,
        reviewer_id=review.reviewer_id,
        reviewer_name=names.get(review.reviewer_id, ""),
        comment=review.comment,
        signals=list(review.signals or []),
        score=review.score,
        created_at=review.created_at,
    )
