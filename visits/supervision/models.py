"""The supervision table: a supervisor's review of a visit the queue raised."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from visits.db import Base, UTCDateTime, utcnow
from visits.models._types import uuid_pk


class VisitReview(Base):
    """A supervisor marked a visit reviewed, with a comment.

    `signals` keeps the keys of the signals the visit showed at that moment: the visit leaves
    the queue, and comes back only if a signal appears that no review has seen yet.
    """

    __tablename__ = "visit_reviews"

    id: Mapped[uuid.UUID] = uuid_pk()
    booking_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("staff_users.id", ondelete="RESTRICT")
    )
    comment: Mapped[str] = mapped_column(Text)
    signals: Mapped[list[str]] = mapped_column(JSON, default=list)
    score: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
