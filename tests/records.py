"""A visit with something on record: recording files, a transcript and a signed note."""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from tests.world import Persona, add_case, add_team, book, database, staff_persona, tomorrow_at
from visits.db import utcnow
from visits.fingerprints import note_sha256, transcript_sha256
from visits.models import (
    Booking,
    NoteStatus,
    Recording,
    RecordingStatus,
    StaffRole,
    Transcript,
    VisitNote,
)
from visits.web.keys import SETTINGS


@dataclass
class VisitOnRecord:
    booking_id: uuid.UUID
    case_id: uuid.UUID
    recordings: list[Recording]
    transcript: Transcript
    note: VisitNote


@dataclass
class Office:
    caseworker: Persona
    supervisor: Persona


async def office(client: TestClient, team: str = "North") -> Office:
    """A team with a caseworker and their supervisor, both signed in."""
    group = await add_team(client, team)
    return Office(
        caseworker=await staff_persona(client, f"cw_{team.lower()}", StaffRole.CASEWORKER, group),
        supervisor=await staff_persona(client, f"sup_{team.lower()}", StaffRole.SUPERVISOR, group),
    )


def data_dir(client: TestClient) -> Path:
    return client.server.app[SETTINGS].data_dir


async def visit_on_record(
    client: TestClient,
    caseworker: Persona,
    number: str,
    *,
    files: dict[str, bytes] | None = None,
    age: timedelta = timedelta(0),
) -> VisitOnRecord:
    """A booked visit with recording files (real files under the data directory), a done
    transcript and a signed note, all fingerprinted and created `age` ago."""
    case, person = await add_case(client, caseworker, number, f"Client {number}")
    async with database(client).transaction() as session:
        earlier = await session.scalar(
            select(func.count())
            .select_from(Booking)
            .where(Booking.caseworker_id == caseworker.user_id)
        )
    booking = await book(client, caseworker, case, person, tomorrow_at(6 + (earlier or 0)))
    booking_id = uuid.UUID(booking["booking"]["id"])
    created = utcnow() - age
    files = files or {"000-a-audio.ogg": os.urandom(5000), "001-b-audio.ogg": os.urandom(7000)}
    directory = data_dir(client) / "recordings" / str(booking_id)
    directory.mkdir(parents=True, exist_ok=True)
    segments = [
        {
            "start": 0.5,
            "end": 2.0,
            "text": "Hello, how are you?",
            "confidence": 0.9,
            "speaker_role": "caseworker",
            "speaker_name": "Casey",
        }
    ]
    text = "Casey (caseworker): Hello, how are you?"
    async with database(client).transaction() as session:
        recordings = []
        for name, content in files.items():
            (directory / name).write_bytes(content)
            recording = Recording(
                booking_id=booking_id,
                participant_role="client",
                kind="audio",
                path=f"recordings/{booking_id}/{name}",
                sha256=hashlib.sha256(content).hexdigest(),
                status=RecordingStatus.FINALIZED,
                created_at=created,
            )
            session.add(recording)
            recordings.append(recording)
        transcript = Transcript(
            booking_id=booking_id,
            status="done",
            text=text,
            segments=segments,
            sha256=transcript_sha256(segments),
            created_at=created,
            completed_at=created,
        )
        note = VisitNote(
            id=uuid.uuid4(),
            booking_id=booking_id,
            case_id=case.id,
            status=NoteStatus.SIGNED,
            body={"summary": "Doing well.", "topics": ["housing"]},
            signed_by_id=caseworker.user_id,
            signed_at=created,
            created_at=created,
        )
        note.sha256 = note_sha256(note)
        session.add_all([transcript, note])
    return VisitOnRecord(booking_id, case.id, recordings, transcript, note)
