"""`run.py demo`: one real visit from booking to draft note, offline, on embedded defaults.

It starts the whole service on a loopback port with a fresh SQLite database, books a visit
for a new caseworker and client, and lets two synthetic participants hold it: each one's
"microphone" plays the project's recorded speech (transcription/samples) in turn. The server
relays and records them; the transcription queue transcribes the recordings and drafts the
note, which is printed.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
from aiohttp import web
from sqlalchemy import select

from signaling.synthetic import RATE, VisitParticipant, read_speech
from transcription.models import JobStatus, TranscriptionJob
from transcription.samples import sample
from visits.bookings import create_booking
from visits.db import Database, utcnow
from visits.models import (
    BookingKind,
    Case,
    Client,
    StaffRole,
    StaffUser,
    Team,
    Transcript,
    VisitNote,
)
from visits.notes.export import as_text, note_dict
from visits.security import Passwords
from visits.settings import Settings, load_settings
from visits.web.keys import DATABASE

AppFactory = Callable[[Settings], web.Application]

# (speaker, sample, second of the visit it starts at): a short check-in, in turns.
SCRIPT = (
    ("caseworker", "caseworker_greeting", 1.0),
    ("client", "client_update", 15.0),
    ("caseworker", "caseworker_plan", 27.5),
    ("client", "client_closing", 40.5),
)
VISIT_SECONDS = 51.0


@dataclass(frozen=True)
class DemoVisit:
    booking_id: uuid.UUID
    caseworker_username: str
    caseworker_password: str
    client_token: str


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def microphone(speaker: str) -> np.ndarray:
    """What one speaker's microphone plays: their lines at their times, silence between."""
    track = np.zeros(round(VISIT_SECONDS * RATE), np.int16)
    for who, name, at in SCRIPT:
        if who == speaker:
            voice = read_speech(str(sample(name).path), lead_silence=0.0)
            start = round(at * RATE)
            track[start : start + len(voice)] = voice[: len(track) - start]
    return track


async def book_demo_visit(db: Database) -> DemoVisit:
    """A team, a caseworker, a client, a case and a visit that starts now."""
    password = secrets.token_urlsafe(12)
    username = f"demo-{secrets.token_hex(3)}"
    password_hash = await Passwords().hash(password)
    async with db.transaction() as session:
        team = Team(name=f"Demo team {username}")
        session.add(team)
        await session.flush()
        worker = StaffUser(
            username=username,
            display_name="Maria Lopez",
            role=StaffRole.CASEWORKER,
            team_id=team.id,
            password_hash=password_hash,
        )
        session.add(worker)
        await session.flush()
        person = Client(team_id=team.id, full_name="Dana Rivera", preferred_language="en")
        case = Case(
            case_number=f"DEMO-{username[5:]}", title="Demo family", caseworker_id=worker.id
        )
        case.clients = [person]
        session.add(case)
        await session.flush()
        start = utcnow()
        booking, issued = await create_booking(
            session,
            case=case,
            client_id=person.id,
            start_at=start,
            end_at=start + timedelta(minutes=30),
            time_zone="America/Chicago",
            purpose="Monthly check-in on housing and the children's school",
            kind=BookingKind.ON_DEMAND,
            created_by_id=worker.id,
            client_display_name=person.full_name,
            link_valid_days=1,
        )
    return DemoVisit(booking.id, username, password, issued.token)


async def hold_visit(base_url: str, visit: DemoVisit) -> None:
    """The caseworker opens the visit, admits the client, both consent and talk, both hang up."""
    async with aiohttp.ClientSession() as http:
        response = await http.post(
            f"{base_url}/api/session",
            json={"username": visit.caseworker_username, "password": visit.caseworker_password},
        )
        response.raise_for_status()
        cookie = response.cookies["vv_session"].value
        caseworker = VisitParticipant(
            http, base_url, {"booking_id": str(visit.booking_id)}, cookie=cookie
        )
        person = VisitParticipant(http, base_url, {"token": visit.client_token})
        try:
            await caseworker.join()
            await caseworker.consent("accepted")
            await person.join()
            await person.consent("accepted")
            waiting = await caseworker.waiting()
            await caseworker.send(type="admit", participant_id=waiting[0]["participant_id"])
            await person.expect("admitted")
            log("the client is admitted; both consented to the recording")
            await asyncio.gather(
                caseworker.connect_media(microphone("caseworker")),
                person.connect_media(microphone("client")),
            )
            log(f"talking for {VISIT_SECONDS:.0f} seconds...")
            await asyncio.sleep(VISIT_SECONDS)
            await person.leave()
            await caseworker.leave()
            log("both hung up")
        finally:
            await person.close()
            await caseworker.close()


async def wait_for_note(db: Database, booking_id: uuid.UUID, within: float) -> dict[str, Any]:
    """The transcript and draft note once the transcription job is done."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        async with db.transaction() as session:
            job = await session.scalar(
                select(TranscriptionJob).where(TranscriptionJob.booking_id == booking_id)
            )
            if job is not None and job.status is JobStatus.FAILED:
                raise RuntimeError(f"transcription failed: {job.last_error}")
            if job is not None and job.status is JobStatus.DONE:
                transcript = await session.scalar(
                    select(Transcript).where(Transcript.booking_id == booking_id)
                )
                note = await session.scalar(
                    select(VisitNote).where(
                        VisitNote.booking_id == booking_id, VisitNote.addendum_to_id.is_(None)
                    )
                )
                assert transcript is not None
                assert note is not None
                data = note_dict(note, [], {})
                return {
                    "visit_id": str(booking_id),
                    "transcript": {"segments": transcript.segments, "text": transcript.text},
                    "note": data,
                    "note_text": as_text(data),
                }
        await asyncio.sleep(0.5)
    raise TimeoutError("the draft note was not ready in time")


async def run_demo(app_factory: AppFactory, data_dir: Path) -> dict[str, Any]:
    settings = load_settings(
        data_dir=data_dir,
        ice_host_addresses=["127.0.0.1"],
        visit_empty_grace_seconds=0.0,
        bootstrap_admin=False,
    )
    runner = web.AppRunner(app_factory(settings), handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        base_url = f"http://{host}:{port}"
        log(f"service running at {base_url} with data in {data_dir}")
        db = runner.app[DATABASE]
        visit = await book_demo_visit(db)
        log(f"booked visit {visit.booking_id} for Dana Rivera with Maria Lopez")
        await hold_visit(base_url, visit)
        hung_up = time.monotonic()
        result = await wait_for_note(db, visit.booking_id, within=600)
        log(f"draft note ready {time.monotonic() - hung_up:.1f} s after hang-up")
        return result
    finally:
        await runner.cleanup()
