"""Legal holds, and the checkpoint that lets the audit chain start after deleted events."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from visits.db import Base, UTCDateTime, utcnow
from visits.models._types import uuid_pk


class LegalHold(Base):
    """While active (not released), nothing of its case or visit is deleted by retention."""

    __tablename__ = "legal_holds"
    __table_args__ = (
        CheckConstraint("(case_id IS NULL) <> (booking_id IS NULL)", name="case_or_booking"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    case_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="RESTRICT"), index=True
    )
    booking_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("bookings.id", ondelete="RESTRICT"), index=True
    )
    reason: Mapped[str] = mapped_column(Text)
    placed_by_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("staff_users.id", ondelete="RESTRICT")
    )
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("staff_users.id", ondelete="RESTRICT")
    )
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditCheckpoint(Base):
    """Retention deleted audit events up to `through_id`; the chain continues from its hash.

    The retention event appended in the same transaction repeats these fields inside the
    chain, so a forged checkpoint does not match any chained event and `audit verify` says so.
    """

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    through_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    through_hash: Mapped[str] = mapped_column(String(64))
    deleted: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
