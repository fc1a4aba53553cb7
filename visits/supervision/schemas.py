"""JSON shapes of the supervision API (inputs validated, outputs documented in OpenAPI)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from visits.models import BookingStatus
from visits.web.schemas import BookingOut

Zone = Annotated[str, Field(min_length=1, max_length=64)]


class Period(BaseModel):
    """A range of calendar days, both ends included, in a time zone."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: date | None = Field(None, alias="from", description="First day (YYYY-MM-DD).")
    to: date | None = Field(None, description="Last day, included (YYYY-MM-DD).")
    time_zone: Zone = "UTC"

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.from_ and self.to and self.to < self.from_:
            raise ValueError("'to' is before 'from'")
        return self


class VisitFilter(Period):
    caseworker: uuid.UUID | None = None
    status: BookingStatus | None = None
    no_show: bool | None = Field(None, description="true: only no-shows; false: none.")
    flagged: bool | None = Field(None, description="true: only visits showing a signal.")
    limit: Annotated[int, Field(ge=1, le=1000)] = 200


class VisitRow(BaseModel):
    booking_id: uuid.UUID
    case_id: uuid.UUID
    case_number: str
    client_id: uuid.UUID
    client_name: str
    caseworker_id: uuid.UUID
    caseworker_name: str
    start_at: datetime
    end_at: datetime
    time_zone: str
    status: BookingStatus
    kind: str
    held_minutes: float | None
    recording_status: str
    note_status: str | None
    flags: list[str]
    score: int
    reviewed: bool


class SignalOut(BaseModel):
    key: str
    kind: str
    score: int
    text: str
    at: float | None


class Participant(BaseModel):
    role: str
    name: str
    kind: str  # staff or link
    consent: str | None


class ConsentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    participant_role: str
    participant_name: str
    choice: str
    notice_version: str
    language: str
    answered_at: datetime


class RecordingOut(BaseModel):
    id: uuid.UUID
    kind: str
    participant_role: str
    participant_name: str
    offset_seconds: float
    duration_seconds: float | None
    sha256: str | None
    status: str
    media_type: str
    url: str
    download_url: str


class TranscriptOut(BaseModel):
    id: uuid.UUID
    status: str
    engine: str
    model: str
    segments: list[dict[str, Any]]
    text: str
    sha256: str | None
    completed_at: datetime | None


class NoteOut(BaseModel):
    id: uuid.UUID
    status: str
    body: dict[str, Any]
    signed_by_name: str | None
    signed_at: datetime | None
    sha256: str | None
    created_at: datetime
    updated_at: datetime
    addenda: list[NoteOut] = Field(default_factory=list)


class AuditEntry(BaseModel):
    at: datetime
    actor_kind: str
    actor_id: str
    actor_name: str
    actor_role: str
    action: str
    object_type: str
    object_id: str
    outcome: str
    details: dict[str, Any]


class ReviewOut(BaseModel):
    id: uuid.UUID
    booking_id: uuid.UUID
    reviewer_id: uuid.UUID
    reviewer_name: str
    comment: str
    signals: list[str]
    score: int
    created_at: datetime


class VisitDetail(BaseModel):
    booking: BookingOut
    case_number: str
    client_name: str
    caseworker_name: str
    participants: list[Participant]
    consents: list[ConsentOut]
    recordings: list[RecordingOut]
    playback_recording_id: uuid.UUID | None = Field(
        description="The recording to play beside the transcript (the mixed playback file "
        "when there is one)."
    )
    transcript: TranscriptOut | None
    note: NoteOut | None
    note_history: list[dict[str, Any]] = Field(
        description="Earlier versions of the note, when the notes package keeps them."
    )
    signals: list[SignalOut]
    reviews: list[ReviewOut]
    audit: list[AuditEntry] = Field(description="Everything done with this visit's records.")


class Thresholds(BaseModel):
    unsigned_days: int
    short_visit_minutes: int
    no_show_repeat: int
    lookback_days: int


class QueueItem(BaseModel):
    booking_id: uuid.UUID
    case_number: str
    client_name: str
    caseworker_name: str
    start_at: datetime
    time_zone: str
    status: BookingStatus
    score: int
    reasons: list[SignalOut]


class ReviewQueue(BaseModel):
    thresholds: Thresholds
    total: int = Field(description="Visits in the queue; `items` holds the first `limit`.")
    items: list[QueueItem]


class QueueQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: Annotated[int, Field(ge=1, le=1000)] = 100


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class MediaQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    download: bool = Field(False, description="Answer as an attachment (a download).")


class MetricsRow(BaseModel):
    caseworker_id: uuid.UUID | None
    caseworker: str
    visits_held: int
    no_shows: int
    no_show_rate: float | None
    avg_duration_minutes: float | None
    notes_signed: int
    avg_hours_to_signed_note: float | None


class MetricsOut(BaseModel):
    first_day: date
    last_day: date
    time_zone: str
    caseworkers: list[MetricsRow]
    team: MetricsRow
