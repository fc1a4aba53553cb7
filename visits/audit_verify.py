"""`audit verify`: check the audit chain and the fingerprints of what the record holds.

Every problem is named precisely (which event, which recording and file, which transcript or
note), so whoever investigates knows where to look. The chain starts at the genesis hash, or,
after retention deleted old events, at the newest checkpoint, which must itself be confirmed
by a `retention.delete` event inside the chain.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from visits.audit import GENESIS_HASH, event_hash, hashed_fields
from visits.crypto import EncryptionError, plain_sha256
from visits.db import Database
from visits.fingerprints import note_sha256, transcript_fingerprint
from visits.models import (
    AuditCheckpoint,
    AuditEvent,
    NoteStatus,
    Recording,
    RecordingStatus,
    Transcript,
    VisitNote,
)

_BATCH = 2000
AUDIT_RETENTION_OBJECT = "audit_events"


@dataclass
class VerifyReport:
    problems: list[str] = field(default_factory=list)
    events: int = 0
    first_id: int | None = None
    last_id: int | None = None
    head_hash: str = GENESIS_HASH
    checkpoint_id: int | None = None
    recordings: int = 0
    transcripts: int = 0
    notes: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        start = f"after checkpoint #{self.checkpoint_id}" if self.checkpoint_id else "from genesis"
        return (
            f"{self.events} audit events ({start}, #{self.first_id}..#{self.last_id}), "
            f"head hash {self.head_hash}; fingerprints checked: {self.recordings} recordings, "
            f"{self.transcripts} transcripts, {self.notes} signed notes"
        )


async def verify(db: Database, data_dir: Path, key: bytes | None) -> VerifyReport:
    report = VerifyReport()
    await _verify_chain(db, report)
    await _verify_recordings(db, data_dir, key, report)
    await _verify_records(db, report)
    return report


async def _verify_chain(db: Database, report: VerifyReport) -> None:
    async with db.transaction() as session:
        checkpoint = await session.scalar(
            select(AuditCheckpoint).order_by(AuditCheckpoint.through_id.desc()).limit(1)
        )
    expected = checkpoint.through_hash if checkpoint else GENESIS_HASH
    after = checkpoint.through_id if checkpoint else 0
    report.checkpoint_id = checkpoint.through_id if checkpoint else None
    confirmed = checkpoint is None
    previous_id: int | None = None
    while True:
        async with db.transaction() as session:
            batch = list(
                await session.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.id > after)
                    .order_by(AuditEvent.id)
                    .limit(_BATCH)
                )
            )
        if not batch:
            break
        for event in batch:
            if event.prev_hash != expected:
                before = (
                    f"event #{previous_id}"
                    if previous_id is not None
                    else (f"checkpoint #{checkpoint.through_id}" if checkpoint else "genesis")
                )
                report.problems.append(
                    f"audit event #{event.id} ({event.action}): prev_hash does not match the "
                    f"hash of {before}: an event between them was removed, or {before} altered"
                )
            if event_hash(event.prev_hash, hashed_fields(event)) != event.hash:
                report.problems.append(
                    f"audit event #{event.id} ({event.action}): hash mismatch: its fields "
                    "were altered after it was written"
                )
            if (
                checkpoint is not None
                and event.action == "retention.delete"
                and event.object_type == AUDIT_RETENTION_OBJECT
                and event.details.get("through_id") == checkpoint.through_id
                and event.details.get("through_hash") == checkpoint.through_hash
            ):
                confirmed = True
            expected = event.hash
            previous_id = event.id
            report.events += 1
            report.first_id = report.first_id if report.first_id is not None else event.id
            report.last_id = event.id
        after = batch[-1].id
    report.head_hash = expected
    if not confirmed and checkpoint is not None:
        report.problems.append(
            f"audit checkpoint through #{checkpoint.through_id} is not confirmed by a "
            "retention.delete event in the chain: it was forged or its event removed"
        )


async def _verify_recordings(
    db: Database, data_dir: Path, key: bytes | None, report: VerifyReport
) -> None:
    async with db.transaction() as session:
        recordings = list(
            await session.scalars(
                select(Recording)
                .where(
                    Recording.status.in_([RecordingStatus.FINALIZED, RecordingStatus.INTERRUPTED])
                )
                .order_by(Recording.created_at)
            )
        )
    for recording in recordings:
        if not recording.sha256:
            continue  # nothing was written (e.g. a track cut off by a crash before any media)
        problem = await asyncio.to_thread(
            _check_file, data_dir, recording.path, recording.sha256, key
        )
        if problem:
            report.problems.append(f"recording {recording.id} file {recording.path}: {problem}")
        report.recordings += 1


def _check_file(data_dir: Path, relative: str, sha256: str, key: bytes | None) -> str | None:
    """What is wrong with one recording's file, or None."""
    root = data_dir.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        return "path leaves the data directory"
    if not path.is_file():
        return "missing file"
    try:
        digest = plain_sha256(path, key)
    except EncryptionError as error:
        return f"sha256 mismatch ({error})"
    if digest != sha256:
        return f"sha256 mismatch (recorded {sha256}, file has {digest})"
    return None


async def _verify_records(db: Database, report: VerifyReport) -> None:
    async with db.transaction() as session:
        transcripts = list(
            await session.scalars(
                select(Transcript).where(
                    Transcript.sha256.is_not(None), Transcript.deleted_at.is_(None)
                )
            )
        )
        notes = list(
            await session.scalars(
                select(VisitNote).where(
                    VisitNote.status == NoteStatus.SIGNED,
                    VisitNote.sha256.is_not(None),
                    VisitNote.deleted_at.is_(None),
                )
            )
        )
    for transcript in transcripts:
        if transcript_fingerprint(transcript) != transcript.sha256:
            report.problems.append(
                f"transcript {transcript.id} altered: its text or segments no longer match "
                "its sha256"
            )
        report.transcripts += 1
    for note in notes:
        if note_sha256(note) != note.sha256:
            report.problems.append(
                f"signed note {note.id} altered: its body or signature no longer match its sha256"
            )
        report.notes += 1
