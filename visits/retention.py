"""Retention: delete what has outlived its period, unless a legal hold keeps it.

`apply_retention` takes the clock as an argument (the daily job passes the real time, tests a
chosen one). What is deleted leaves its fingerprint and an audit event:

- a recording's file is removed; its row stays with status `deleted` and its sha256;
- a transcript's text and segments, a note's body (and every saved revision of it) are
  emptied; the row stays as a tombstone (`deleted_at`) with its sha256;
- audit events older than the period are deleted as a prefix of the chain; a checkpoint row
  keeps the last deleted event's id and hash, and a `retention.delete` event in the chain
  repeats them, so `audit verify` starts from there and detects a forged checkpoint.

A legal hold on a case or a visit keeps all of its recordings, transcripts and notes, and
every audit event from the first one naming any of them on (the chain is cut only as a prefix).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from visits import audit
from visits.audit_verify import AUDIT_RETENTION_OBJECT
from visits.db import Database
from visits.models import (
    AuditCheckpoint,
    AuditEvent,
    Booking,
    LegalHold,
    NoteRevision,
    Recording,
    RecordingStatus,
    Transcript,
    VisitNote,
)
from visits.settings import Settings

logger = logging.getLogger(__name__)

_DELETABLE = (RecordingStatus.FINALIZED, RecordingStatus.INTERRUPTED)
_FINISHED_TRANSCRIPTS = ("done", "failed")


@dataclass
class RetentionReport:
    recordings: int = 0
    transcripts: int = 0
    notes: int = 0
    audit_events: int = 0
    kept_by_hold: int = 0

    def summary(self) -> str:
        return (
            f"deleted {self.recordings} recordings, {self.transcripts} transcripts, "
            f"{self.notes} notes, {self.audit_events} audit events; "
            f"{self.kept_by_hold} expired items kept by legal holds"
        )


async def held_booking_ids(session: AsyncSession) -> set[uuid.UUID]:
    """Bookings under an active legal hold, on the visit itself or on its case."""
    active = LegalHold.released_at.is_(None)
    held_cases = select(LegalHold.case_id).where(active, LegalHold.case_id.is_not(None))
    held_bookings = select(LegalHold.booking_id).where(active, LegalHold.booking_id.is_not(None))
    rows = await session.scalars(
        select(Booking.id).where(
            or_(Booking.id.in_(held_bookings), Booking.case_id.in_(held_cases))
        )
    )
    return set(rows)


async def apply_retention(db: Database, settings: Settings, now: datetime) -> RetentionReport:
    """Delete everything expired at `now`; idempotent, so a missed or repeated run is harmless."""
    report = RetentionReport()
    await _finish_deleted_files(db, settings.data_dir)
    if settings.retention_recording_days:
        await _recordings(
            db, settings.data_dir, now - _days(settings.retention_recording_days), report
        )
    if settings.retention_transcript_days:
        await _transcripts(db, now - _days(settings.retention_transcript_days), now, report)
    if settings.retention_note_days:
        await _notes(db, now - _days(settings.retention_note_days), now, report)
    if settings.retention_audit_days:
        await _audit_events(db, now - _days(settings.retention_audit_days), report)
    logger.info("retention at %s: %s", now.isoformat(), report.summary())
    return report


def _days(days: int) -> timedelta:
    return timedelta(days=days)


def _remove(data_dir: Path, relative: str) -> None:
    root = data_dir.resolve()
    path = (root / relative).resolve()
    if path.is_relative_to(root):
        path.unlink(missing_ok=True)


async def _finish_deleted_files(db: Database, data_dir: Path) -> None:
    """Files of recordings marked deleted by a run that stopped before removing them."""
    async with db.transaction() as session:
        paths = list(
            await session.scalars(
                select(Recording.path).where(Recording.status == RecordingStatus.DELETED)
            )
        )
    for relative in paths:
        if (data_dir / relative).exists():
            await asyncio.to_thread(_remove, data_dir, relative)


async def _recordings(
    db: Database, data_dir: Path, cutoff: datetime, report: RetentionReport
) -> None:
    async with db.transaction() as session:
        held = await held_booking_ids(session)
        expired = list(
            await session.scalars(
                select(Recording).where(
                    Recording.created_at < cutoff, Recording.status.in_(_DELETABLE)
                )
            )
        )
    for recording in expired:
        if recording.booking_id in held:
            report.kept_by_hold += 1
            continue
        # The row changes first: a crash before the file is gone leaves a deleted row whose
        # file the next run removes, never a live row without its file.
        async with db.transaction() as session:
            row = await session.get(Recording, recording.id, with_for_update=True)
            if row is None or row.status not in _DELETABLE:
                continue
            row.status = RecordingStatus.DELETED
            await audit.append(
                session,
                audit.SYSTEM,
                "retention.delete",
                "recording",
                row.id,
                details={
                    "booking_id": str(row.booking_id),
                    "kind": row.kind,
                    "path": row.path,
                    "sha256": row.sha256,
                },
            )
        await asyncio.to_thread(_remove, data_dir, recording.path)
        report.recordings += 1


async def _transcripts(
    db: Database, cutoff: datetime, now: datetime, report: RetentionReport
) -> None:
    async with db.transaction() as session:
        held = await held_booking_ids(session)
        expired = list(
            await session.scalars(
                select(Transcript).where(
                    Transcript.deleted_at.is_(None),
                    Transcript.status.in_(_FINISHED_TRANSCRIPTS),
                    func.coalesce(Transcript.completed_at, Transcript.created_at) < cutoff,
                )
            )
        )
        for transcript in expired:
            if transcript.booking_id in held:
                report.kept_by_hold += 1
                continue
            transcript.text = ""
            transcript.segments = []
            transcript.deleted_at = now
            await audit.append(
                session,
                audit.SYSTEM,
                "retention.delete",
                "transcript",
                transcript.id,
                details={"booking_id": str(transcript.booking_id), "sha256": transcript.sha256},
            )
            report.transcripts += 1


async def _notes(db: Database, cutoff: datetime, now: datetime, report: RetentionReport) -> None:
    async with db.transaction() as session:
        held = await held_booking_ids(session)
        expired = list(
            await session.scalars(
                select(VisitNote).where(
                    VisitNote.deleted_at.is_(None),
                    func.coalesce(VisitNote.signed_at, VisitNote.created_at) < cutoff,
                )
            )
        )
        for note in expired:
            if note.booking_id in held:
                report.kept_by_hold += 1
                continue
            note.body = {}
            note.deleted_at = now
            # Every saved version of the body goes with it.
            await session.execute(
                update(NoteRevision).where(NoteRevision.note_id == note.id).values(body={})
            )
            await audit.append(
                session,
                audit.SYSTEM,
                "retention.delete",
                "note",
                note.id,
                details={
                    "booking_id": str(note.booking_id),
                    "status": note.status.value,
                    "sha256": note.sha256,
                },
            )
            report.notes += 1


async def _held_object_ids(session: AsyncSession, held: set[uuid.UUID]) -> set[str]:
    """Ids an audit event may name when it is about something under a legal hold."""
    if not held:
        return set()
    ids: set[str] = {str(b) for b in held}
    ids |= {
        str(c) for c in await session.scalars(select(Booking.case_id).where(Booking.id.in_(held)))
    }
    for model in (Recording, Transcript, VisitNote):
        ids |= {
            str(i)
            for i in await session.scalars(select(model.id).where(model.booking_id.in_(held)))
        }
    return ids


def _chunks(values: Iterable[str], size: int = 500) -> list[list[str]]:
    items = list(values)
    return [items[i : i + size] for i in range(0, len(items), size)]


async def _audit_events(db: Database, cutoff: datetime, report: RetentionReport) -> None:
    async with db.transaction() as session:
        through_id = await session.scalar(
            select(func.max(AuditEvent.id)).where(AuditEvent.at < cutoff)
        )
        if through_id is None:
            return
        held_ids = await _held_object_ids(session, await held_booking_ids(session))
        for chunk in _chunks(held_ids):
            first_held = await session.scalar(
                select(func.min(AuditEvent.id)).where(
                    AuditEvent.id <= through_id, AuditEvent.object_id.in_(chunk)
                )
            )
            if first_held is not None:
                report.kept_by_hold += 1
                through_id = min(through_id, first_held - 1)
        last = await session.scalar(
            select(AuditEvent)
            .where(AuditEvent.id <= through_id)
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )
        if last is None:
            return
        count = await session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.id <= last.id)
        )
        # Appended before the delete: the newest row always survives, so SQLite (whose rowids
        # follow the highest one left) never hands out a deleted event's id again.
        await audit.append(
            session,
            audit.SYSTEM,
            "retention.delete",
            AUDIT_RETENTION_OBJECT,
            last.id,
            details={"through_id": last.id, "through_hash": last.hash, "deleted": count},
        )
        await session.execute(delete(AuditEvent).where(AuditEvent.id <= last.id))
        session.add(AuditCheckpoint(through_id=last.id, through_hash=last.hash, deleted=count))
        report.audit_events += count or 0
