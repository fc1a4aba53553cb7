"""What a visit leaves behind: consents, recordings, transcripts and visit notes."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from visits.db import Base, UTCDateTime, utcnow
from visits.models._types import str_enum, uuid_pk


class ConsentChoice(enum.StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Consent(Base):
    """One participant's answer to the recording notice, kept as part of the record."""

    __tablename__ = "consents"

    id: Mapped[uuid.UUID] = uuid_pk()
    booking_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    participant_role: Mapped[str] = mapped_column(String(24))
    participant_name: Mapped[str] = mapped_column(String(200))
    staff_user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    access_token_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("access_tokens.id", ondelete="SET NULL")
    )
    notice_version: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(16))
    choice: Mapped[ConsentChoice] = mapped_column(str_enum(ConsentChoice))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecordingStatus(enum.StrEnum):
    RECORDING = "recording"
    FINALIZED = "finalized"
    INTERRUPTED = "interrupted"
    DELETED = "deleted"


class Recording(Base):
    """One recorded file of a visit: a participant's audio or video, or the playback mix."""

    __tablename__ = "recordings"

    id: Mapped[uuid.UUID] = uuid_pk()
    booking_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    participant_role: Mapped[str] = mapped_column(String(24), default="")
    participant_name: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(16))  # audio, video or playback
    path: Mapped[str] = mapped_column(String(400))  # relative to the data directory
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offset_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[RecordingStatus] = mapped_column(
        str_enum(RecordingStatus), default=RecordingStatus.RECORDING
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Transcript(Base):
    """The speaker-labelled transcript of a visit, merged from each participant's recording."""

    __tablename__ = "transcripts"

    id: Mapped[uuid.UUID] = uuid_pk()
    booking_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(24), default="pending")
    engine: Mapped[str] = mapped_column(String(40), default="")
    model: Mapped[str] = mapped_column(String(200), default="")
    versions: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    text: Mapped[str] = mapped_column(Text, default="")
    segments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Retention emptied text and segments; the row and its fingerprint stay as a tombstone.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NoteStatus(enum.StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"


class VisitNote(Base):
    """A visit note: a draft until the caseworker signs it; corrections after that are addenda."""

    __tablename__ = "visit_notes"

    id: Mapped[uuid.UUID] = uuid_pk()
    booking_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    addendum_to_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("visit_notes.id", ondelete="RESTRICT")
    )
    status: Mapped[NoteStatus] = mapped_column(str_enum(NoteStatus), default=NoteStatus.DRAFT)
    body: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    signed_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("staff_users.id", ondelete="RESTRICT")
    )
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Retention emptied the body; the row and its fingerprint stay as a tombstone.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NoteRevision(Base):
    """One saved version of a note's body: drafted, edited, decided or signed, by whom, when.

    Supervisors read a note's history from these; rows are only ever added.
    """

    __tablename__ = "note_revisions"

    id: Mapped[uuid.UUID] = uuid_pk()
    note_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("visit_notes.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(24))  # drafted, edited, decided, signed
    body: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    author_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
