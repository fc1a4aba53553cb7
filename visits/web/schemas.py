"""JSON shapes of the core's objects, shared by the routes of every package."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from visits.models import (
    BookingKind,
    BookingStatus,
    CaseStatus,
    ParticipantRole,
    RecordingOutcome,
    StaffRole,
)

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LanguageTag = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=16, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
    ),
]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 ()-]{6,20}$")]


def refuse_nulls(change: BaseModel, required: tuple[str, ...]) -> None:
    """A change may leave a field out, but not set one the record cannot do without to null
    (a null stored there would break every later reader)."""
    nulled = [
        name
        for name in required
        if name in change.model_fields_set and getattr(change, name) is None
    ]
    if nulled:
        raise ValueError(f"{', '.join(nulled)} may be left out but not set to null")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class TeamOut(Out):
    id: uuid.UUID
    name: str


class StaffOut(Out):
    id: uuid.UUID
    username: str
    display_name: str
    role: StaffRole
    team_id: uuid.UUID | None
    active: bool


class ClientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: Name
    preferred_language: LanguageTag = "en"
    phone: Phone | None = None


class ClientOut(Out):
    id: uuid.UUID
    full_name: str
    preferred_language: str
    phone: str | None


class CaseOut(Out):
    id: uuid.UUID
    case_number: str
    title: str
    status: CaseStatus
    caseworker_id: uuid.UUID
    created_at: datetime


class CaseDetail(CaseOut):
    clients: list[ClientOut]


class BookingOut(Out):
    id: uuid.UUID
    case_id: uuid.UUID
    caseworker_id: uuid.UUID
    client_id: uuid.UUID
    start_at: datetime
    end_at: datetime
    time_zone: str
    status: BookingStatus
    kind: BookingKind
    purpose: str
    sequence: int
    started_at: datetime | None
    ended_at: datetime | None
    recording_status: RecordingOutcome
    recording_note: str


class LinkOut(BaseModel):
    """A join link; the URL is shown only in this answer (only its hash is kept)."""

    id: uuid.UUID
    role: ParticipantRole
    display_name: str
    url: str
    expires_at: datetime


class BookingWithLink(BaseModel):
    booking: BookingOut
    client_link: LinkOut


class BookingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: uuid.UUID
    start_at: AwareDatetime
    end_at: AwareDatetime
    time_zone: Annotated[str, Field(min_length=1, max_length=64)]
    purpose: Annotated[str, Field(max_length=2000)] = ""
