"""Tables of the scheduler: office hours, share links, calendar feeds, the notification outbox,
document requests and uploads. Times are UTC (`UTCDateTime`); office hours keep wall-clock
times beside their IANA zone, because that is what a caseworker publishes.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, time

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from visits.db import Base, UTCDateTime, utcnow
from visits.models._types import str_enum, uuid_pk


class OfficeHours(Base):
    """A caseworker's booking rules: zone, slot length, buffer, daily cap, notice, horizon."""

    __tablename__ = "office_hours"

    caseworker_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True
    )
    time_zone: Mapped[str] = mapped_column(String(64))
    slot_minutes: Mapped[int] = mapped_column(Integer, default=30)
    buffer_minutes: Mapped[int] = mapped_column(Integer, default=0)
    daily_cap: Mapped[int | None] = mapped_column(Integer)
    min_notice_minutes: Mapped[int] = mapped_column(Integer, default=60)
    horizon_days: Mapped[int] = mapped_column(Integer, default=28)
    notify_email: Mapped[str | None] = mapped_column(String(254))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AvailabilityBlock(Base):
    """One weekly block, e.g. Tuesdays 09:00-12:00 in the office hours' zone."""

    __tablename__ = "availability_blocks"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("end_time > start_time", name="ends_after_start"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    caseworker_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("office_hours.caseworker_id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday, as datetime.weekday()
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)


class DateOff(Base):
    """Days without office hours (holidays, leave), first to last inclusive, in the zone."""

    __tablename__ = "dates_off"
    __table_args__ = (CheckConstraint("last_day >= first_day", name="ends_after_start"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    caseworker_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("office_hours.caseworker_id", ondelete="CASCADE"), index=True
    )
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")


class ShareLinkKind(enum.StrEnum):
    CASE = "case"  # "book your next visit": one case and client
    GENERAL = "general"  # office hours for people not yet known: makes an intake case


class ShareLink(Base):
    """A self-service booking link a caseworker shares. Only the token's hash is stored."""

    __tablename__ = "share_links"

    id: Mapped[uuid.UUID] = uuid_pk()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[ShareLinkKind] = mapped_column(str_enum(ShareLinkKind))
    caseworker_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("clients.id", ondelete="CASCADE")
    )
    label: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CalendarFeed(Base):
    """A caseworker's private calendar subscription URL; a new one revokes the old."""

    __tablename__ = "calendar_feeds"

    id: Mapped[uuid.UUID] = uuid_pk()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    caseworker_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BookingSync(Base):
    """The booking state (sequence, status) whose jobs and notices are done, so a changed
    booking is seen however it changed, and its notices go out exactly once."""

    __tablename__ = "booking_sync"

    booking_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True
    )
    sequence: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24))
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Channel(enum.StrEnum):
    LOG = "log"
    SMS = "sms"
    EMAIL = "email"


class NotificationStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Notification(Base):
    """One message in the outbox. The sender delivers it, retrying with backoff."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    booking_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("bookings.id", ondelete="SET NULL"), index=True
    )
    audience: Mapped[str] = mapped_column(String(16))  # client or staff
    kind: Mapped[str] = mapped_column(String(32))  # confirmed, reminder, moved, cancelled
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    attachment: Mapped[str | None] = mapped_column(Text)  # an iCalendar invite for email
    status: Mapped[NotificationStatus] = mapped_column(
        str_enum(NotificationStatus), default=NotificationStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DocumentRequest(Base):
    """What a caseworker asks a client of a case to upload (ID, payslip, photo of a letter)."""

    __tablename__ = "document_requests"

    id: Mapped[uuid.UUID] = uuid_pk()
    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("clients.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str] = mapped_column(String(500))
    open: Mapped[bool] = mapped_column(Boolean, default=True)
    requested_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UploadedDocument(Base):
    """A file a client uploaded against a request; stored under data_dir by generated name."""

    __tablename__ = "uploaded_documents"
    __table_args__ = (UniqueConstraint("path", name="path"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    request_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("document_requests.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(400))  # relative to the data directory
    original_name: Mapped[str] = mapped_column(String(200), default="")  # shown, never used
    uploaded_by_link_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("access_tokens.id", ondelete="SET NULL")
    )
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


__all__ = [
    "AvailabilityBlock",
    "BookingSync",
    "CalendarFeed",
    "Channel",
    "DateOff",
    "DocumentRequest",
    "Notification",
    "NotificationStatus",
    "OfficeHours",
    "ShareLink",
    "ShareLinkKind",
    "UploadedDocument",
]
