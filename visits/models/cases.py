"""Cases and the booking, the visit record that every later artefact hangs off."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from visits.db import Base, UTCDateTime, utcnow
from visits.models._types import str_enum, uuid_pk
from visits.models.people import Client, StaffUser

case_clients = Table(
    "case_clients",
    Base.metadata,
    Column("case_id", Uuid, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("client_id", Uuid, ForeignKey("clients.id", ondelete="RESTRICT"), primary_key=True),
)


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[uuid.UUID] = uuid_pk()
    case_number: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    caseworker_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("staff_users.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus), default=CaseStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    caseworker: Mapped[StaffUser] = relationship(lazy="raise")
    clients: Mapped[list[Client]] = relationship(secondary=case_clients, lazy="raise")


class BookingStatus(enum.StrEnum):
    """Lifecycle: scheduled -> in_progress -> completed, or cancelled / no_show."""

    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class BookingKind(enum.StrEnum):
    SCHEDULED = "scheduled"
    ON_DEMAND = "on_demand"


class RecordingOutcome(enum.StrEnum):
    """What became of a visit's recording, as the visit record states it."""

    NOT_RECORDED = "not_recorded"
    RECORDING = "recording"
    RECORDED = "recorded"
    DECLINED = "declined"  # someone declined consent: (the rest of) the visit went unrecorded
    INTERRUPTED = "interrupted"  # the server died mid-visit; the files were recovered


class Booking(Base):
    """One visit between a caseworker and a client of a case; times in UTC, zone beside them."""

    __tablename__ = "bookings"
    __table_args__ = (CheckConstraint("end_at > start_at", name="ends_after_start"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="RESTRICT"), index=True
    )
    caseworker_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("staff_users.id", ondelete="RESTRICT"), index=True
    )
    client_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("clients.id", ondelete="RESTRICT"), index=True
    )
    start_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    time_zone: Mapped[str] = mapped_column(String(64))
    status: Mapped[BookingStatus] = mapped_column(
        str_enum(BookingStatus), default=BookingStatus.SCHEDULED
    )
    kind: Mapped[BookingKind] = mapped_column(str_enum(BookingKind), default=BookingKind.SCHEDULED)
    purpose: Mapped[str] = mapped_column(Text, default="")
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    client_joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first arrival
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recording_status: Mapped[RecordingOutcome] = mapped_column(
        str_enum(RecordingOutcome), default=RecordingOutcome.NOT_RECORDED
    )
    recording_note: Mapped[str] = mapped_column(Text, default="")
    recording_manifest: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    case: Mapped[Case] = relationship(lazy="raise")
    client: Mapped[Client] = relationship(lazy="raise")
    caseworker: Mapped[StaffUser] = relationship(lazy="raise", foreign_keys=[caseworker_id])


class ParticipantRole(enum.StrEnum):
    """Who a join link admits: the client, or a guest such as an interpreter."""

    CLIENT = "client"
    INTERPRETER = "interpreter"
    FAMILY = "family"
    GUEST = "guest"


class AccessToken(Base):
    """An unguessable link that admits one person to one booking. Only its hash is stored."""

    __tablename__ = "access_tokens"

    id: Mapped[uuid.UUID] = uuid_pk()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    booking_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[ParticipantRole] = mapped_column(str_enum(ParticipantRole))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    kiosk: Mapped[bool] = mapped_column(Boolean, default=False)  # issued at a shared kiosk
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
