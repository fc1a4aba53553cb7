"""What a live visit writes to the visit record: consents, start and end, recordings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from signaling.kiosk import revoke_kiosk_links
from visits import audit
from visits.db import Database, utcnow
from visits.models import (
    Booking,
    BookingStatus,
    Consent,
    ConsentChoice,
    Recording,
    RecordingOutcome,
    RecordingStatus,
)

if TYPE_CHECKING:
    from signaling.participant import Participant
    from signaling.protocol import ConsentAnswer
    from signaling.recording import RecordingManifest


def participant_actor(participant: Participant) -> audit.Actor:
    if participant.staff_user_id is not None:
        return audit.Actor("staff", str(participant.staff_user_id), participant.role)
    return audit.Actor("client", str(participant.link_id or ""), participant.role)


async def store_consent(
    db: Database, booking_id: uuid.UUID, participant: Participant, answer: ConsentAnswer
) -> None:
    """Keep the answer as part of the record: who, which notice, which language, when."""
    async with db.transaction() as session:
        session.add(
            Consent(
                booking_id=booking_id,
                participant_role=participant.role,
                participant_name=participant.name,
                staff_user_id=participant.staff_user_id,
                access_token_id=participant.link_id,
                notice_version=answer.notice_version,
                language=answer.language,
                choice=ConsentChoice(answer.choice),
                answered_at=utcnow(),
            )
        )
        await audit.append(
            session,
            participant_actor(participant),
            f"consent.{answer.choice}",
            "booking",
            booking_id,
            details={"notice_version": answer.notice_version, "language": answer.language},
        )


async def mark_client_joined(db: Database, booking_id: uuid.UUID) -> None:
    """The client arrived (lobby included): this visit is not a no-show."""
    async with db.transaction() as session:
        booking = await session.get(Booking, booking_id)
        if booking is not None and booking.client_joined_at is None:
            booking.client_joined_at = utcnow()


async def mark_started(db: Database, booking_id: uuid.UUID) -> None:
    async with db.transaction() as session:
        booking = await session.get(Booking, booking_id)
        if booking is not None and booking.status in (
            BookingStatus.SCHEDULED,
            BookingStatus.NO_SHOW,
        ):
            booking.status = BookingStatus.IN_PROGRESS
            booking.started_at = booking.started_at or utcnow()


async def revoke_kiosk(db: Database, booking_id: uuid.UUID) -> None:
    async with db.transaction() as session:
        await revoke_kiosk_links(session, booking_id)


async def note_declined(db: Database, booking_id: uuid.UUID, note: str) -> None:
    async with db.transaction() as session:
        booking = await session.get(Booking, booking_id)
        if booking is not None:
            booking.recording_status = RecordingOutcome.DECLINED
            booking.recording_note = note


async def mark_ended(
    db: Database,
    booking_id: uuid.UUID,
    manifest: RecordingManifest | None,
    directory: Path,
    data_dir: Path,
    roster: dict[str, tuple[str, str]],
    declined_note: str,
) -> None:
    """Close the visit record: status, end time, and one Recording row per recorded file."""
    async with db.transaction() as session:
        booking = await session.get(Booking, booking_id)
        if booking is None:
            return
        booking.status = BookingStatus.COMPLETED
        booking.ended_at = utcnow()
        if manifest is not None:
            add_recordings(session, booking, manifest, directory, data_dir, roster)
        if declined_note:
            booking.recording_status = RecordingOutcome.DECLINED
            booking.recording_note = declined_note
        elif manifest is not None and manifest.tracks:
            booking.recording_status = RecordingOutcome.RECORDED
        await revoke_kiosk_links(session, booking_id)
        await audit.append(session, audit.SYSTEM, "visit.end", "booking", booking_id)


def add_recordings(
    session: AsyncSession,
    booking: Booking,
    manifest: RecordingManifest,
    directory: Path,
    data_dir: Path,
    roster: dict[str, tuple[str, str]],
) -> None:
    """Recording rows for every track in `manifest`, and the manifest on the booking."""
    status = RecordingStatus.INTERRUPTED if manifest.interrupted else RecordingStatus.FINALIZED
    for track in manifest.tracks:
        role, name = roster.get(track.participant_id, (track.role, ""))
        session.add(
            Recording(
                booking_id=booking.id,
                participant_role=role,
                participant_name=name,
                kind=track.kind,
                path=str((directory / track.file).relative_to(data_dir)),
                started_at=datetime.fromtimestamp(track.started_at, UTC),
                offset_seconds=track.offset,
                duration_seconds=track.duration,
                sha256=track.sha256,
                status=status,
            )
        )
    booking.recording_manifest = manifest.to_json()
