"""The transcription queue: persisted jobs worked in a process pool, off the event loop.

A job is a row, so a visit is never lost to a restart: jobs left running by a stopped server
are queued again at start. Each of a visit's tracks is one task in the pool; the job's
progress is the share of tracks done. A failed job is retried with exponential backoff up to
a limit, then marked failed with the error for the caseworker to see.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from transcription.models import JobStatus, TranscriptionJob
from transcription.visit import Track, fingerprint, full_text, merge, start_worker, transcribe_track
from visits import audit
from visits.db import Database, utcnow
from visits.models import Recording, RecordingStatus, Transcript
from visits.settings import Settings

logger = logging.getLogger(__name__)

_TRANSCRIBABLE = (RecordingStatus.FINALIZED, RecordingStatus.INTERRUPTED)


class NothingToTranscribe(Exception):
    """The visit has no audio recording (declined consent, or deleted by retention)."""


# What follows a finished transcript in the same transaction (the draft note): returns the
# id of what it made, for the audit event.
AfterTranscript = Callable[[AsyncSession, uuid.UUID], Awaitable[object]]


class TranscriptionQueue:
    """Owns the worker processes and the loop that works the job table; one per application."""

    def __init__(self, settings: Settings, db: Database, after: AfterTranscript) -> None:
        self.settings = settings
        self.db = db
        self._after = after
        self._pool = ProcessPoolExecutor(
            max_workers=settings.transcription_workers,
            # Workers must not inherit the server's event loop, sockets and threads.
            mp_context=multiprocessing.get_context("spawn"),
            initializer=start_worker,
        )
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._busy = False  # a job's tracks are in the pool

    async def start(self) -> None:
        """Queue again what a stopped server left running, then start working."""
        async with self.db.transaction() as session:
            await session.execute(
                update(TranscriptionJob)
                .where(TranscriptionJob.status == JobStatus.RUNNING)
                .values(status=JobStatus.QUEUED, next_attempt_at=utcnow())
            )
        self._loop_task = asyncio.create_task(self._work(), name="transcription-queue")

    async def enqueue(self, booking_id: uuid.UUID) -> None:
        """Transcribe the visit (again, if it was transcribed before)."""
        async with self.db.transaction() as session:
            job = await session.scalar(
                select(TranscriptionJob).where(TranscriptionJob.booking_id == booking_id)
            )
            if job is None:
                session.add(TranscriptionJob(booking_id=booking_id))
            elif job.status is not JobStatus.RUNNING:
                job.status = JobStatus.QUEUED
                job.attempts = 0
                job.progress = 0.0
                job.last_error = ""
                job.next_attempt_at = utcnow()
        self._wake.set()

    async def close(self) -> None:
        """Stop working; a job cut short stays `running` and is queued again at next start."""
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
        if not self._busy:
            await asyncio.to_thread(self._pool.shutdown)
            return
        # A track may take minutes; a stopping server does not wait for it. (Python 3.14 has
        # ProcessPoolExecutor.terminate_workers for this.)
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
            process.join(timeout=5)

    async def _work(self) -> None:
        poll = self.settings.transcription_poll_seconds
        while True:
            job_id = await self._claim()
            if job_id is None:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=poll)
                continue
            self._busy = True
            try:
                await self._run(job_id)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning("transcription job %s failed: %s", job_id, error)
                await self._failed(job_id, error)
            self._busy = False

    async def _claim(self) -> uuid.UUID | None:
        async with self.db.transaction() as session:
            job = await session.scalar(
                select(TranscriptionJob)
                .where(
                    TranscriptionJob.status == JobStatus.QUEUED,
                    TranscriptionJob.next_attempt_at <= utcnow(),
                )
                .order_by(TranscriptionJob.next_attempt_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if job is None:
                return None
            job.status = JobStatus.RUNNING
            job.attempts += 1
            job.progress = 0.0
            return job.id

    async def _run(self, job_id: uuid.UUID) -> None:
        async with self.db.transaction() as session:
            job = await session.get(TranscriptionJob, job_id)
            assert job is not None
            booking_id = job.booking_id
            tracks = await _tracks(session, self.settings, booking_id)
            transcript = await _transcript_of(session, booking_id)
            transcript.status = JobStatus.RUNNING.value
        if not tracks:
            raise NothingToTranscribe("the visit has no audio recording to transcribe")

        loop = asyncio.get_running_loop()
        model = self.settings.transcription_model or None
        futures = [
            loop.run_in_executor(
                self._pool,
                transcribe_track,
                self.settings.transcription_engine,
                model,
                self.settings.transcription_threads,
                track.path,
                self.settings.recording_key_bytes,
            )
            for track in tracks
        ]
        for done, future in enumerate(asyncio.as_completed(futures), start=1):
            await future
            await self._progress(job_id, done / len(futures))
        results = [(track, future.result()) for track, future in zip(tracks, futures, strict=True)]

        lines = merge(results)
        first = results[0][1]
        async with self.db.transaction() as session:
            job = await session.get(TranscriptionJob, job_id)
            assert job is not None
            transcript = await _transcript_of(session, booking_id)
            transcript.status = JobStatus.DONE.value
            transcript.segments = lines
            transcript.text = full_text(lines)
            transcript.engine = first.engine
            transcript.model = first.model
            transcript.versions = {first.engine: first.engine_version}
            transcript.sha256 = fingerprint(lines)
            transcript.completed_at = utcnow()
            await session.flush()
            made = await self._after(session, booking_id)
            job.status = JobStatus.DONE
            job.progress = 1.0
            job.last_error = ""
            job.finished_at = utcnow()
            await audit.append(
                session,
                audit.SYSTEM,
                "transcript.create",
                "booking",
                str(booking_id),
                details={"transcript_id": str(transcript.id), "made": str(getattr(made, "id", ""))},
            )

    async def _progress(self, job_id: uuid.UUID, share: float) -> None:
        async with self.db.transaction() as session:
            job = await session.get(TranscriptionJob, job_id)
            if job is not None:
                job.progress = round(share, 3)

    async def _failed(self, job_id: uuid.UUID, error: Exception) -> None:
        """Retry later with backoff, or give up when attempts are spent or retrying is futile."""
        async with self.db.transaction() as session:
            job = await session.get(TranscriptionJob, job_id)
            if job is None:
                return
            job.last_error = f"{type(error).__name__}: {error}"[:2000]
            final = isinstance(error, NothingToTranscribe) or (
                job.attempts >= self.settings.transcription_max_attempts
            )
            transcript = await _transcript_of(session, job.booking_id)
            if final:
                job.status = JobStatus.FAILED
                job.finished_at = utcnow()
                transcript.status = JobStatus.FAILED.value
            else:
                job.status = JobStatus.QUEUED
                job.next_attempt_at = retry_at(
                    utcnow(), job.attempts, self.settings.transcription_retry_seconds
                )
                transcript.status = JobStatus.QUEUED.value


def retry_at(now: datetime, attempts: int, base_seconds: float) -> datetime:
    """Exponential backoff: base, 2 x base, 4 x base... after the 1st, 2nd, 3rd failure."""
    return now + timedelta(seconds=base_seconds * 2 ** max(0, attempts - 1))


async def _tracks(session: AsyncSession, settings: Settings, booking_id: uuid.UUID) -> list[Track]:
    recordings = await session.scalars(
        select(Recording)
        .where(
            Recording.booking_id == booking_id,
            Recording.kind == "audio",
            Recording.status.in_(_TRANSCRIBABLE),
        )
        .order_by(Recording.offset_seconds)
    )
    return [
        Track(
            path=settings.data_dir / recording.path,
            speaker_role=recording.participant_role,
            speaker_name=recording.participant_name,
            offset_seconds=recording.offset_seconds,
        )
        for recording in recordings
    ]


async def _transcript_of(session: AsyncSession, booking_id: uuid.UUID) -> Transcript:
    """The booking's transcript row, made on first use (one per visit, rewritten on re-run)."""
    transcript = await session.scalar(
        select(Transcript)
        .where(Transcript.booking_id == booking_id)
        .order_by(Transcript.created_at.desc())
        .limit(1)
    )
    if transcript is None:
        transcript = Transcript(booking_id=booking_id, status=JobStatus.QUEUED.value)
        session.add(transcript)
        await session.flush()
    return transcript
