"""A supervisor's team and its recent past, written straight into the database as the rest
of the service leaves it: visits held or missed, notes (draft, signed, with risk indicators per
the note body schema), consents, a transcript and a real recorded file."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from tests.world import Persona, add_case, add_staff, add_team, database, sign_in
from visits.models import (
    AccessToken,
    Booking,
    BookingStatus,
    Case,
    Client,
    Consent,
    ConsentChoice,
    NoteStatus,
    ParticipantRole,
    Recording,
    RecordingStatus,
    StaffRole,
    Transcript,
    VisitNote,
)
from visits.web.keys import SETTINGS

SAMPLE = (
    Path(__file__).resolve().parents[1] / "transcription" / "samples" / "caseworker_greeting.ogg"
)
MIDNIGHT = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
NOW = datetime.now(UTC)


def day(days_ago: int, hour: int, minute: int = 0) -> datetime:
    """A time on a past calendar day (UTC), far from any day boundary of the filters."""
    return MIDNIGHT - timedelta(days=days_ago) + timedelta(hours=hour, minutes=minute)


def risk(ident: str, category: str, line: str, status: str, at: float) -> dict[str, Any]:
    return {
        "id": ident,
        "category": category,
        "line": line,
        "speaker": "Alice Adams (client)",
        "at": at,
        "status": status,
    }


def note_body(risks: list[dict[str, Any]] | None = None, summary: str = "") -> dict[str, Any]:
    """A draft note body in the shape the notes package writes."""
    return {
        "visit": {"date": "", "start": "", "end": "", "time_zone": "UTC", "modality": "video"},
        "participants": [],
        "interpreter": None,
        "consent": [],
        "purpose": "Monthly check-in",
        "summary": summary,
        "key_statements": [],
        "topics": ["housing"],
        "action_items": [],
        "risk_indicators": risks or [],
        "provenance": {"engine": "faster-whisper", "model": "tiny.en", "versions": {}},
    }


@dataclass
class Team:
    sup: Persona
    other_sup: Persona
    caseworker: Persona
    cw: dict[str, uuid.UUID]  # caseworker ids by name
    cases: dict[str, tuple[Case, Client]]
    visits: dict[str, uuid.UUID] = field(default_factory=dict)


async def add_visit(
    client: TestClient,
    case: tuple[Case, Client],
    caseworker_id: uuid.UUID,
    start: datetime,
    *,
    status: BookingStatus = BookingStatus.COMPLETED,
    held_minutes: float | None = 30,
    note: dict[str, Any] | None = None,
    signed_hours_after: float | None = None,
    consents: tuple[tuple[str, str, ConsentChoice], ...] = (),
) -> uuid.UUID:
    """One past visit as the live-visit and notes code leave it."""
    held = status is BookingStatus.COMPLETED and held_minutes is not None
    started = start + timedelta(minutes=1) if held else None
    ended = started + timedelta(minutes=held_minutes) if held and started else None
    async with database(client).transaction() as session:
        booking = Booking(
            case_id=case[0].id,
            caseworker_id=caseworker_id,
            client_id=case[1].id,
            start_at=start,
            end_at=start + timedelta(minutes=45),
            time_zone="UTC",
            status=status,
            purpose="Monthly check-in",
            started_at=started,
            ended_at=ended,
            client_joined_at=started,
        )
        session.add(booking)
        await session.flush()
        if note is not None:
            signed = signed_hours_after is not None
            session.add(
                VisitNote(
                    booking_id=booking.id,
                    case_id=case[0].id,
                    status=NoteStatus.SIGNED if signed else NoteStatus.DRAFT,
                    body=note,
                    signed_by_id=caseworker_id if signed else None,
                    signed_at=(ended or booking.end_at) + timedelta(hours=signed_hours_after)
                    if signed_hours_after is not None
                    else None,
                )
            )
        for role, name, choice in consents:
            session.add(
                Consent(
                    booking_id=booking.id,
                    participant_role=role,
                    participant_name=name,
                    staff_user_id=caseworker_id if role == "caseworker" else None,
                    notice_version="2026-01",
                    language="en",
                    choice=choice,
                    answered_at=started or start,
                )
            )
    return booking.id


async def build_team(client: TestClient) -> Team:
    """Team North (caseworkers Ana, Ben, idle Cy; supervisor) and team South."""
    north, south = await add_team(client, "North"), await add_team(client, "South")
    ana = await add_staff(client, "ana", StaffRole.CASEWORKER, north)
    ben = await add_staff(client, "ben", StaffRole.CASEWORKER, north)
    cy = await add_staff(client, "cy", StaffRole.CASEWORKER, north)
    await add_staff(client, "sup", StaffRole.SUPERVISOR, north)
    zed = await add_staff(client, "zed", StaffRole.CASEWORKER, south)
    await add_staff(client, "sup_south", StaffRole.SUPERVISOR, south)
    cases = {
        "alice": await add_case(client, ana, "N-1", "Alice Adams"),
        "bob": await add_case(client, ana, "N-2", "Bob Brown"),
        "carol": await add_case(client, ben, "N-3", "Carol Cruz"),
        "dan": await add_case(client, ben, "N-4", "Dan Diaz"),
        "erin": await add_case(client, ben, "N-5", "Erin Egan"),
        "sam": await add_case(client, zed, "S-1", "Sam South"),
    }
    team = Team(
        sup=await sign_in(client, "sup"),
        other_sup=await sign_in(client, "sup_south"),
        caseworker=await sign_in(client, "ana"),
        cw={"ana": ana.id, "ben": ben.id, "cy": cy.id, "zed": zed.id},
        cases=cases,
    )
    v = team.visits
    crisis = [
        risk("r1", "self_harm", "I don't see the point any more", "confirmed", 135.0),
        risk("r2", "housing_loss", "We may lose the flat", "dismissed", 200.0),
    ]
    # Risk: a confirmed indicator (the dismissed one does not count); note two days old.
    v["risk"] = await add_visit(client, cases["alice"], ana.id, day(2, 10), note=note_body(crisis))
    # Unsigned: a draft note ten days after the visit.
    v["unsigned"] = await add_visit(
        client,
        cases["bob"],
        ana.id,
        NOW - timedelta(days=10, hours=2),
        held_minutes=25,
        note=note_body(),
    )
    # Repeated no-shows: Carol missed two visits; the latest carries the signal.
    v["no_show_old"] = await add_visit(
        client, cases["carol"], ben.id, day(20, 9), status=BookingStatus.NO_SHOW
    )
    v["no_show"] = await add_visit(
        client, cases["carol"], ben.id, day(6, 9), status=BookingStatus.NO_SHOW
    )
    # Short: three minutes, signed two hours after.
    v["short"] = await add_visit(
        client,
        cases["dan"],
        ben.id,
        day(1, 9),
        held_minutes=3,
        note=note_body(),
        signed_hours_after=2,
    )
    # Declined consent: the client said no to recording; signed a day and two hours after.
    v["declined"] = await add_visit(
        client,
        cases["erin"],
        ben.id,
        day(1, 11),
        held_minutes=20,
        note=note_body(),
        signed_hours_after=26,
        consents=(
            ("caseworker", "Ben", ConsentChoice.ACCEPTED),
            ("client", "Erin Egan", ConsentChoice.DECLINED),
        ),
    )
    # Nothing to see: held, consented, signed five hours after.
    v["clean"] = await add_visit(
        client,
        cases["alice"],
        ana.id,
        day(1, 13),
        note=note_body(summary="All well."),
        signed_hours_after=5,
        consents=(
            ("caseworker", "Ana", ConsentChoice.ACCEPTED),
            ("client", "Alice Adams", ConsentChoice.ACCEPTED),
        ),
    )
    v["cancelled"] = await add_visit(
        client, cases["bob"], ana.id, day(3, 15), status=BookingStatus.CANCELLED
    )
    # Another team's visit with a risk: never in North's lists, queue or metrics.
    v["south"] = await add_visit(client, cases["sam"], zed.id, day(2, 10), note=note_body(crisis))
    return team


async def add_record(client: TestClient, team: Team) -> dict[str, Any]:
    """The declined-consent visit's artefacts: links, a transcript, a recording, an addendum."""
    booking_id = team.visits["declined"]
    data_dir: Path = client.server.app[SETTINGS].data_dir
    relative = Path("recordings") / str(booking_id) / "caseworker-audio.ogg"
    (data_dir / relative).parent.mkdir(parents=True)
    shutil.copyfile(SAMPLE, data_dir / relative)
    content = SAMPLE.read_bytes()
    segments = [
        {
            "start": 0.4,
            "end": 3.1,
            "text": "Hello Erin, thanks for joining.",
            "confidence": 0.93,
            "speaker_role": "caseworker",
            "speaker_name": "Ana",
        },
        {
            "start": 3.5,
            "end": 6.0,
            "text": "I would rather not be recorded.",
            "confidence": 0.88,
            "speaker_role": "client",
            "speaker_name": "Erin Egan",
        },
    ]
    async with database(client).transaction() as session:
        link = AccessToken(
            token_hash=hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
            booking_id=booking_id,
            role=ParticipantRole.CLIENT,
            display_name="Erin Egan",
            expires_at=NOW + timedelta(days=30),
        )
        session.add(link)
        await session.flush()
        await session.execute(
            update(Consent)
            .where(Consent.booking_id == booking_id, Consent.participant_role == "client")
            .values(access_token_id=link.id)
        )
        recording = Recording(
            booking_id=booking_id,
            participant_role="caseworker",
            participant_name="Ana",
            kind="audio",
            path=str(relative),
            offset_seconds=0.0,
            duration_seconds=12.4,
            sha256=hashlib.sha256(content).hexdigest(),
            status=RecordingStatus.FINALIZED,
        )
        transcript = Transcript(
            booking_id=booking_id,
            status="done",
            engine="faster-whisper",
            model="tiny.en",
            text="\n".join(
                f"{s['speaker_name']} ({s['speaker_role']}): {s['text']}" for s in segments
            ),
            segments=segments,
            completed_at=NOW,
        )
        session.add_all([recording, transcript])
        main = await session.scalar(select(VisitNote).where(VisitNote.booking_id == booking_id))
        assert main is not None
        session.add(
            VisitNote(
                booking_id=booking_id,
                case_id=main.case_id,
                addendum_to_id=main.id,
                status=NoteStatus.SIGNED,
                body={"text": "Client asked for a copy of the consent notice."},
                signed_by_id=team.cw["ben"],
                signed_at=NOW,
            )
        )
    return {"recording": recording, "content": content, "note_id": main.id}
