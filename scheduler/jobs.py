"""Reminders, no-shows and housekeeping as APScheduler jobs stored in the service's database.

Jobs live in the `apscheduler_jobs` table (SQLAlchemyJobStore, through a synchronous engine on
the same database), so they outlive restarts. Their stored arguments are ids and numbers only;
the job functions below get what they work with (database, settings, outbox) from a
`JobContext` that `ContextExecutor` passes in, so nothing lives in module state.

The scheduler is APScheduler 3's BackgroundScheduler: it works the job store from its own
thread, and the executor runs each job coroutine on the application's event loop. An
AsyncIOScheduler would run the job store's synchronous queries on the event loop; on SQLite
that loop may then wait for a write lock held by a request that needs the loop to finish,
until the busy timeout fails it. For the same reason every job change made by a request goes
through a worker thread (`Planner`).

`Planner.sync` brings one booking's jobs and notices in line with its state (sequence,
status); it runs after every change the scheduler makes, after changes made through core
routes (a booking observer), and for every booking at start-up and every few minutes
(`reconcile`), so a change is never missed however it was made.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import traceback
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.executors.base import BaseExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError

from scheduler.invites import invite
from scheduler.messages import client_text, staff_invite_text, staff_text, when
from scheduler.models import BookingSync, OfficeHours
from scheduler.outbox import Sender, enqueue
from visits import audit
from visits.bookings import issue_link
from visits.db import Database, utcnow
from visits.i18n import Translations
from visits.models import (
    Booking,
    BookingStatus,
    Case,
    Client,
    ParticipantRole,
    StaffUser,
)
from visits.retention import apply_retention
from visits.settings import Settings

logger = logging.getLogger(__name__)

RECONCILE_EVERY = timedelta(minutes=5)
STORE_RETRY_SECONDS = 10.0
RECONCILE_JOB = "reconcile"
RETENTION_JOB = "retention"
# Only visits that are still to come (or just over) need jobs or notices.
RECONCILE_LOOKBACK = timedelta(days=1)


def sync_database_url(url: str) -> str:
    """The synchronous URL of the service's database, for APScheduler's job store."""
    if url.startswith("sqlite+aiosqlite://"):
        return "sqlite://" + url.removeprefix("sqlite+aiosqlite://")
    if url.startswith("postgresql+asyncpg://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql+asyncpg://")
    raise ValueError(f"no synchronous driver for {url.split(':', 1)[0]}")


def reminder_job_id(booking_id: object, minutes: int) -> str:
    return f"reminder:{booking_id}:{minutes}"


def no_show_job_id(booking_id: object) -> str:
    return f"no_show:{booking_id}"


@dataclass
class JobContext:
    """What job functions work with; handed to them by the executor, never stored."""

    db: Database
    settings: Settings
    translations: Translations
    sender: Sender
    planner: Planner = field(init=False)

    def __post_init__(self) -> None:
        self.planner = Planner(self)


# Job functions: module level, so the job store can name them; stored arguments are ids.
# The executor adds `context`; its default only satisfies APScheduler's argument check.


async def remind(
    booking_id: str, minutes: int, sequence: int, *, context: JobContext | None = None
) -> None:
    """Text the client a reminder, unless the visit moved, was cancelled or has begun."""
    assert context is not None
    await context.planner.send_reminder(uuid.UUID(booking_id), minutes, sequence)


async def mark_no_show(booking_id: str, *, context: JobContext | None = None) -> None:
    """A visit still waiting for its client this long after the start is a no-show."""
    assert context is not None
    await context.planner.mark_no_show(uuid.UUID(booking_id))


async def reconcile(*, context: JobContext | None = None) -> None:
    """Catch up on booking changes whose jobs or notices are not done (e.g. after a crash)."""
    assert context is not None
    await context.planner.reconcile()


async def retention(*, context: JobContext | None = None) -> None:
    """Daily: delete what the retention settings say has expired (legal holds respected)."""
    assert context is not None
    await apply_retention(context.db, context.settings, utcnow())


class ContextExecutor(BaseExecutor):
    """Runs coroutine jobs on the application's event loop, passing them the JobContext."""

    def __init__(self, loop: asyncio.AbstractEventLoop, context: JobContext) -> None:
        super().__init__()
        self.loop = loop
        self.context = context
        self._pending: set[Future[list[JobExecutionEvent]]] = set()

    def shutdown(self, wait: bool = True) -> None:
        for future in list(self._pending):
            future.cancel()
        self._pending.clear()

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        future = asyncio.run_coroutine_threadsafe(self._run(job, run_times), self.loop)
        self._pending.add(future)

        def done(finished: Future[list[JobExecutionEvent]]) -> None:
            self._pending.discard(finished)
            if finished.cancelled():  # the app stopped mid-run (a run takes milliseconds)
                self._run_job_success(job.id, [])
                return
            try:
                events = finished.result()
            except BaseException:
                self._run_job_error(job.id, *sys.exc_info()[1:])
            else:
                self._run_job_success(job.id, events)

        future.add_done_callback(done)

    async def _run(self, job: Job, run_times: list[datetime]) -> list[JobExecutionEvent]:
        events = []
        for run_time in run_times:
            late = datetime.now(UTC) - run_time
            if job.misfire_grace_time is not None and late > timedelta(
                seconds=job.misfire_grace_time
            ):
                events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id, "default", run_time))
                logger.warning("job %s missed its time by %s", job.id, late)
                continue
            try:
                result = await job.func(*job.args, **job.kwargs, context=self.context)
            except Exception as error:
                logger.exception("job %s failed", job.id)
                events.append(
                    JobExecutionEvent(
                        EVENT_JOB_ERROR,
                        job.id,
                        "default",
                        run_time,
                        exception=error,
                        traceback="".join(traceback.format_tb(error.__traceback__)),
                    )
                )
            else:
                events.append(
                    JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, "default", run_time, result)
                )
        return events


class _Scheduler(BackgroundScheduler):
    """A BackgroundScheduler whose thread survives a database outage.

    APScheduler 3 asks every job store for its next run time outside any try block, so one
    failed query (database restarting, network blip) would end its thread for good; here it
    is logged and retried.
    """

    def _process_jobs(self) -> float | None:
        try:
            return super()._process_jobs()  # type: ignore[no-any-return]
        except Exception:
            logger.exception("job store unreachable; retrying in %s s", STORE_RETRY_SECONDS)
            return STORE_RETRY_SECONDS


class Planner:
    """Keeps each booking's jobs and notices in line with the booking."""

    def __init__(self, context: JobContext) -> None:
        self.context = context
        self.scheduler: BackgroundScheduler | None = None
        self._locks: dict[uuid.UUID, tuple[asyncio.Lock, int]] = {}  # lock, users

    @property
    def db(self) -> Database:
        return self.context.db

    @property
    def settings(self) -> Settings:
        return self.context.settings

    # Jobs ---------------------------------------------------------------------------------

    def _place_jobs(
        self, booking_id: uuid.UUID, start: datetime, sequence: int, active: bool
    ) -> None:
        """Add, move or remove one booking's jobs (blocking: call in a worker thread)."""
        scheduler = self.scheduler
        if scheduler is None:
            return
        now = utcnow()
        wanted: dict[str, dict[str, Any]] = {}
        if active:
            for minutes in self.settings.reminder_minutes:
                run_at = start - timedelta(minutes=minutes)
                if run_at > now:
                    wanted[reminder_job_id(booking_id, minutes)] = {
                        "func": remind,
                        "run_date": run_at,
                        "args": [str(booking_id), minutes, sequence],
                        # Late is still useful, but not once the next reminder is near.
                        "misfire_grace_time": max(60, min(minutes * 30, 3600)),
                    }
            wanted[no_show_job_id(booking_id)] = {
                "func": mark_no_show,
                "run_date": start + timedelta(minutes=self.settings.no_show_minutes),
                "args": [str(booking_id)],
                "misfire_grace_time": None,  # whenever we are back, the record must be right
            }
        every = [reminder_job_id(booking_id, m) for m in self.settings.reminder_minutes]
        every.append(no_show_job_id(booking_id))
        for job_id in every:
            if job_id in wanted:
                job = wanted[job_id]
                scheduler.add_job(
                    job["func"],
                    trigger="date",
                    run_date=job["run_date"],
                    args=job["args"],
                    id=job_id,
                    replace_existing=True,
                    coalesce=True,
                    misfire_grace_time=job["misfire_grace_time"],
                )
            else:
                with contextlib.suppress(JobLookupError):
                    scheduler.remove_job(job_id)

    # Following bookings -------------------------------------------------------------------

    async def sync(self, booking_id: uuid.UUID) -> None:
        """Bring one booking's jobs and notices in line with its current state.

        One sync per booking at a time in this process; notices carry dedupe keys (kind,
        booking, sequence), so a sync repeated here or in another process sends nothing twice.
        """
        lock, users = self._locks.get(booking_id, (asyncio.Lock(), 0))
        self._locks[booking_id] = (lock, users + 1)
        try:
            async with lock:
                await self._sync(booking_id)
        finally:
            lock, users = self._locks[booking_id]
            if users == 1:
                del self._locks[booking_id]
            else:
                self._locks[booking_id] = (lock, users - 1)

    async def _sync(self, booking_id: uuid.UUID) -> None:
        for _ in range(5):
            async with self.db.transaction() as session:
                booking = await session.get(Booking, booking_id)
                done = await session.get(BookingSync, booking_id)
            if booking is None:
                return
            before = (done.sequence, done.status) if done else None
            if before == (booking.sequence, booking.status.value):
                return
            active = booking.status is BookingStatus.SCHEDULED
            await asyncio.to_thread(
                self._place_jobs, booking.id, booking.start_at, booking.sequence, active
            )
            kind = _notice_kind(before, booking)
            try:
                async with self.db.transaction() as session:
                    if not await _claim(session, booking, before):
                        continue  # it changed meanwhile: look again
                    if kind is not None:
                        await self._notify(session, booking, kind)
            except IntegrityError:
                continue  # another process recorded it first: look again
            self.context.sender.wake()
            return
        logger.warning("booking %s kept changing; the next reconcile syncs it", booking_id)

    async def reconcile(self) -> None:
        """Sync every recent or future booking whose recorded state differs from its own."""
        since = utcnow() - RECONCILE_LOOKBACK
        async with self.db.transaction() as session:
            stale = list(
                await session.scalars(
                    select(Booking.id).where(
                        Booking.end_at > since,
                        ~exists().where(
                            BookingSync.booking_id == Booking.id,
                            BookingSync.sequence == Booking.sequence,
                            BookingSync.status == Booking.status,
                        ),
                    )
                )
            )
        for booking_id in stale:
            await self.sync(booking_id)
        if stale:
            logger.info("reconciled %s bookings", len(stale))

    # Notices ------------------------------------------------------------------------------

    async def _client_link(self, session: Any, booking: Booking) -> str:
        """A fresh link for one message; the client's earlier links keep working."""
        issued = await issue_link(
            session,
            booking,
            ParticipantRole.CLIENT,
            "",
            self.settings.client_token_days,
            revoke_previous=False,
        )
        return self.settings.base_url + issued.path()

    async def _notify(self, session: Any, booking: Booking, kind: str) -> None:
        client = await session.get(Client, booking.client_id)
        if client is not None and client.phone:
            language = client.preferred_language
            link = await self._client_link(session, booking)
            await enqueue(
                session,
                dedupe_key=f"{kind}:client:{booking.id}:{booking.sequence}",
                channel=self.context.sender.client_channel(),
                recipient=client.phone,
                body=client_text(
                    self.context.translations,
                    language,
                    kind,
                    booking.start_at,
                    booking.time_zone,
                    link,
                ),
                audience="client",
                kind=kind,
                booking_id=booking.id,
            )
        office = await session.get(OfficeHours, booking.caseworker_id)
        if office is not None and office.notify_email:
            case = await session.get(Case, booking.case_id)
            caseworker = await session.get(StaffUser, booking.caseworker_id)
            start_text = when(self.context.translations, "en", booking.start_at, booking.time_zone)
            subject, body = staff_text(kind, case.case_number, start_text)
            attachment = invite(
                booking,
                self.settings.base_url,
                staff_invite_text(case.case_number, self.settings.base_url + "/"),
                (caseworker.display_name, self.settings.mail_from),
            ).decode()
            await enqueue(
                session,
                dedupe_key=f"{kind}:staff:{booking.id}:{booking.sequence}",
                channel=self.context.sender.staff_channel(),
                recipient=office.notify_email,
                subject=subject,
                body=body,
                attachment=attachment,
                audience="staff",
                kind=kind,
                booking_id=booking.id,
            )

    async def send_reminder(self, booking_id: uuid.UUID, minutes: int, sequence: int) -> None:
        async with self.db.transaction() as session:
            booking = await session.get(Booking, booking_id)
            if (
                booking is None
                or booking.sequence != sequence
                or booking.status is not BookingStatus.SCHEDULED
            ):
                return
            client = await session.get(Client, booking.client_id)
            if client is None or not client.phone:
                return
            link = await self._client_link(session, booking)
            await enqueue(
                session,
                dedupe_key=f"reminder:client:{booking.id}:{sequence}:{minutes}",
                channel=self.context.sender.client_channel(),
                recipient=client.phone,
                body=client_text(
                    self.context.translations,
                    client.preferred_language,
                    "reminder",
                    booking.start_at,
                    booking.time_zone,
                    link,
                ),
                audience="client",
                kind="reminder",
                booking_id=booking.id,
            )
        self.context.sender.wake()

    async def mark_no_show(self, booking_id: uuid.UUID) -> None:
        async with self.db.transaction() as session:
            changed = await session.execute(
                update(Booking)
                .where(
                    Booking.id == booking_id,
                    Booking.status == BookingStatus.SCHEDULED,
                    Booking.client_joined_at.is_(None),
                )
                .values(status=BookingStatus.NO_SHOW, updated_at=utcnow())
            )
            if changed.rowcount:  # type: ignore[attr-defined]
                await audit.append(
                    session,
                    audit.SYSTEM,
                    "booking.no_show",
                    "booking",
                    booking_id,
                    details={"after_minutes": self.settings.no_show_minutes},
                )
        if changed.rowcount:  # type: ignore[attr-defined]
            await self.sync(booking_id)


def _notice_kind(before: tuple[int, str] | None, booking: Booking) -> str | None:
    """Which message a change calls for: a new visit, a move, a cancellation, or none."""
    status = booking.status
    if status is BookingStatus.CANCELLED:
        return None if before and before[1] == status.value else "cancelled"
    if status is not BookingStatus.SCHEDULED or booking.end_at <= utcnow():
        return None
    if before is None:
        return "confirmed"
    return "moved" if before[0] != booking.sequence else None


async def _claim(session: Any, booking: Booking, before: tuple[int, str] | None) -> bool:
    """Record the booking's state as done, if it is still what was read and no one else did."""
    current = await session.get(Booking, booking.id, populate_existing=True)
    if current is None or (current.sequence, current.status) != (booking.sequence, booking.status):
        return False
    if before is None:
        session.add(
            BookingSync(
                booking_id=booking.id, sequence=booking.sequence, status=booking.status.value
            )
        )
        await session.flush()  # a concurrent first sync makes this an IntegrityError
        return True
    claimed = await session.execute(
        update(BookingSync)
        .where(
            BookingSync.booking_id == booking.id,
            BookingSync.sequence == before[0],
            BookingSync.status == before[1],
        )
        .values(sequence=booking.sequence, status=booking.status.value, synced_at=utcnow())
    )
    return bool(claimed.rowcount)


async def scheduling(context: JobContext) -> AsyncIterator[BackgroundScheduler]:
    """The job scheduler's lifetime: started with the app, stopped at clean-up."""
    url = sync_database_url(context.settings.database_url)
    options: dict[str, Any] = (
        {"connect_args": {"timeout": 30}}
        if url.startswith("sqlite")
        else {"pool_pre_ping": True, "pool_size": 2}
    )
    engine = sqlalchemy.create_engine(url, **options)
    if url.startswith("sqlite"):
        # As the service's own connections (visits.db): WAL is set on the file already.
        @sqlalchemy.event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute("PRAGMA busy_timeout = 30000")

    scheduler = _Scheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine)},
        executors={"default": ContextExecutor(asyncio.get_running_loop(), context)},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=UTC,
        daemon=True,
    )
    await asyncio.to_thread(scheduler.start)
    context.planner.scheduler = scheduler
    try:
        await asyncio.to_thread(
            scheduler.add_job,
            reconcile,
            trigger="interval",
            seconds=RECONCILE_EVERY.total_seconds(),
            id=RECONCILE_JOB,
            replace_existing=True,
            next_run_time=utcnow(),
            misfire_grace_time=None,
        )
        await asyncio.to_thread(
            scheduler.add_job,
            retention,
            trigger="cron",
            hour=context.settings.retention_hour,
            minute=17,
            id=RETENTION_JOB,
            replace_existing=True,
            misfire_grace_time=None,  # a day missed while down is caught up on start-up
        )
        yield scheduler
    finally:
        context.planner.scheduler = None
        await asyncio.to_thread(scheduler.shutdown, wait=False)
        engine.dispose()
