"""HTTP route of transcription: a visit's transcript and how far its job has got."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select

from transcription.models import TranscriptionJob
from visits import audit
from visits.access import Audience, booking_for
from visits.models import Transcript
from visits.web.api import Api, Call


class TranscriptOut(BaseModel):
    """Status `none` means the visit was not recorded, so nothing will be transcribed."""

    booking_id: str
    status: str
    progress: float
    attempts: int
    error: str
    engine: str
    model: str
    segments: list[dict[str, Any]]
    text: str
    sha256: str | None
    completed_at: datetime | None


async def get_transcript(call: Call[None, None]) -> TranscriptOut:
    async with call.db.transaction() as session:
        booking = await booking_for(session, call.principal, call.ids["booking_id"])
        job = await session.scalar(
            select(TranscriptionJob).where(TranscriptionJob.booking_id == booking.id)
        )
        transcript = await session.scalar(
            select(Transcript)
            .where(Transcript.booking_id == booking.id)
            .order_by(Transcript.created_at.desc())
            .limit(1)
        )
        await audit.append(session, call.actor, "transcript.view", "booking", booking.id)
    done = transcript is not None and transcript.status == "done"
    return TranscriptOut(
        booking_id=str(booking.id),
        status=job.status.value if job is not None else "none",
        progress=job.progress if job is not None else 0.0,
        attempts=job.attempts if job is not None else 0,
        error=job.last_error if job is not None else "",
        engine=transcript.engine if done else "",
        model=transcript.model if done else "",
        segments=transcript.segments if done else [],
        text=transcript.text if done else "",
        sha256=transcript.sha256 if done else None,
        completed_at=transcript.completed_at if done else None,
    )


def register(api: Api) -> None:
    api.route(
        "GET",
        "/api/bookings/{booking_id}/transcript",
        summary="A visit's speaker-labelled transcript, or the status and progress of its job",
        audience=Audience.CASE_STAFF,
        response=TranscriptOut,
        tag="transcription",
    )(get_transcript)
