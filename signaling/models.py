"""Tables of live visits: kiosk codes."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from visits.db import Base, UTCDateTime, utcnow
from visits.models._types import uuid_pk


class KioskCode(Base):
    """A short visit code plus PIN that admits the client at a shared kiosk (no link needed).

    The code names the booking (it is not secret); the PIN is the secret and is stored hashed.
    Wrong PINs count up; past the limit the code is locked until staff issue a new one.
    """

    __tablename__ = "kiosk_codes"

    id: Mapped[uuid.UUID] = uuid_pk()
    booking_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("bookings.id", ondelete="CASCADE"), unique=True
    )
    code: Mapped[str] = mapped_column(String(12), unique=True)
    pin_hash: Mapped[str] = mapped_column(String(255))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
