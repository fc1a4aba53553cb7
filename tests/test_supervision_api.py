"""Supervision API: the team's visits and filters, a visit's whole record, playback over HTTP
ranges (audited once per playback), the review queue from each signal, reviews, and metrics.

The world is a team's recent past written straight into the database as the rest of the
service leaves it: visits held or missed, notes (draft, signed, with risk indicators per the
note body schema), consents, a transcript and a real recorded file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, text, update

from tests.world import Persona, add_case, add_staff, add_team, database, sign_in
from visits.models import (
    AccessToken,
    AuditEvent,
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
from visits.supervision.detail import note_history
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


async def get_json(persona: Persona, client: TestClient, path: str, status: int = 200) -> Any:
    response = await persona.call(client, "GET", path)
    assert response.status == status, await response.text()
    return await response.json()


async def listed(team: Team, client: TestClient, query: str = "") -> list[str]:
    names = {v: k for k, v in team.visits.items()}
    rows = await get_json(team.sup, client, f"/api/team/visits{query}")
    return [names[uuid.UUID(row["booking_id"])] for row in rows]


async def test_team_visits_filter_by_caseworker_days_status_no_shows_and_flags(
    client: TestClient,
) -> None:
    """Each filter narrows the team's visits the way its name says; other teams never show."""
    team = await build_team(client)
    everything = await listed(team, client)
    assert everything == [
        "clean",
        "declined",
        "short",
        "risk",
        "cancelled",
        "no_show",
        "unsigned",
        "no_show_old",
    ]
    assert await listed(team, client, f"?caseworker={team.cw['ben']}") == [
        "declined",
        "short",
        "no_show",
        "no_show_old",
    ]
    assert await listed(team, client, "?status=completed") == [
        "clean",
        "declined",
        "short",
        "risk",
        "unsigned",
    ]
    assert await listed(team, client, "?no_show=true") == ["no_show", "no_show_old"]
    assert "no_show" not in await listed(team, client, "?no_show=false")
    assert await listed(team, client, "?flagged=true") == [
        "declined",
        "short",
        "risk",
        "no_show",
        "unsigned",
    ]
    assert await listed(team, client, "?flagged=false") == ["clean", "cancelled", "no_show_old"]
    three_days_ago = (MIDNIGHT - timedelta(days=3)).date()
    two_days_ago = (MIDNIGHT - timedelta(days=2)).date()
    assert await listed(team, client, f"?from={three_days_ago}") == [
        "clean",
        "declined",
        "short",
        "risk",
        "cancelled",
    ]
    assert await listed(team, client, f"?from={three_days_ago}&to={two_days_ago}") == [
        "risk",
        "cancelled",
    ]
    rows = await get_json(
        team.sup, client, "/api/team/visits?flagged=true&caseworker=" + str(team.cw["ana"])
    )
    by_id = {row["booking_id"]: row for row in rows}
    risky = by_id[str(team.visits["risk"])]
    assert risky["flags"] == ["risk"]
    assert risky["client_name"] == "Alice Adams"
    assert risky["caseworker_name"] == "Ana"
    assert risky["note_status"] == "draft"
    assert risky["held_minutes"] == 30.0
    assert by_id[str(team.visits["unsigned"])]["flags"] == ["unsigned"]


async def test_team_visits_refuse_bad_filters_by_name(client: TestClient) -> None:
    """A malformed filter is a 400 naming it; another team's caseworker is a 404."""
    team = await build_team(client)
    for query, named in (
        ("?from=yesterday", "from"),
        ("?status=lost", "status"),
        ("?flagged=perhaps", "flagged"),
        ("?from=2026-05-02&to=2026-05-01", "before"),
        ("?time_zone=Mars/Olympus", "Mars/Olympus"),
        ("?colour=red", "colour"),
    ):
        body = await get_json(team.sup, client, f"/api/team/visits{query}", status=400)
        assert named in body["message"], body
    body = await get_json(
        team.sup, client, f"/api/team/visits?caseworker={team.cw['zed']}", status=404
    )
    assert body["error"] == "not_found"


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
            duration_seconds=3.2,
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


async def test_visit_detail_has_consents_transcript_note_and_audit_trail(
    client: TestClient,
) -> None:
    """A visit's record shows who took part and consented, the transcript, the note with its
    addendum, the recording to play, its signals, and who has looked at it."""
    team = await build_team(client)
    record = await add_record(client, team)
    booking_id = team.visits["declined"]
    detail = await get_json(team.sup, client, f"/api/visits/{booking_id}")
    assert detail["booking"]["id"] == str(booking_id)
    assert detail["case_number"] == "N-5"
    assert detail["client_name"] == "Erin Egan"
    assert detail["caseworker_name"] == "Ben"
    assert [(p["role"], p["name"], p["consent"]) for p in detail["participants"]] == [
        ("caseworker", "Ben", "accepted"),
        ("client", "Erin Egan", "declined"),
    ]
    assert [(c["participant_role"], c["choice"]) for c in detail["consents"]] == [
        ("caseworker", "accepted"),
        ("client", "declined"),
    ]
    assert [s["text"] for s in detail["transcript"]["segments"]] == [
        "Hello Erin, thanks for joining.",
        "I would rather not be recorded.",
    ]
    assert detail["transcript"]["segments"][1]["start"] == 3.5
    recording_id = str(record["recording"].id)
    assert detail["playback_recording_id"] == recording_id
    (recording,) = detail["recordings"]
    assert recording["url"] == f"/api/recordings/{recording_id}/media"
    assert recording["media_type"] == "audio/ogg"
    assert detail["note"]["status"] == "signed"
    assert detail["note"]["signed_by_name"] == "Ben"
    assert detail["note"]["body"]["topics"] == ["housing"]
    assert [a["body"]["text"] for a in detail["note"]["addenda"]] == [
        "Client asked for a copy of the consent notice."
    ]
    assert [s["kind"] for s in detail["signals"]] == ["declined_consent"]
    assert "Erin Egan (client)" in detail["signals"][0]["text"]
    assert detail["note_history"] == []
    (viewed,) = detail["audit"]
    assert (viewed["action"], viewed["actor_name"], viewed["object_id"]) == (
        "visit.view",
        "Sup",
        str(booking_id),
    )

    # Who watched this: a playback shows up in the visit's trail, with the viewer's name.
    response = await team.sup.call(client, "GET", recording["url"])
    assert response.status == 200
    assert await response.read() == record["content"]
    detail = await get_json(team.sup, client, f"/api/visits/{booking_id}")
    assert [(e["action"], e["actor_name"]) for e in detail["audit"]] == [
        ("visit.view", "Sup"),
        ("recording.playback", "Sup"),
        ("visit.view", "Sup"),
    ]


async def test_visit_detail_is_for_the_teams_supervisor_only(client: TestClient) -> None:
    """Another team's supervisor and the visit's own caseworker cannot open the record."""
    team = await build_team(client)
    path = f"/api/visits/{team.visits['risk']}"
    await get_json(team.other_sup, client, path, status=404)
    await get_json(team.caseworker, client, path, status=403)


async def playback_events(client: TestClient) -> list[AuditEvent]:
    async with database(client).transaction() as session:
        return list(
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action.in_(["recording.playback", "recording.download"]))
                .order_by(AuditEvent.id)
            )
        )


async def test_recording_streams_byte_ranges_and_logs_each_playback_once(
    client: TestClient,
) -> None:
    """Range requests get 206 with exactly those bytes; a playback's many range requests are
    one audit event; a new playback or a download is another."""
    team = await build_team(client)
    record = await add_record(client, team)
    content: bytes = record["content"]
    size = len(content)
    url = f"/api/recordings/{record['recording'].id}/media"

    async def fetch(range_header: str | None, query: str = "") -> tuple[int, Any, bytes]:
        headers = {"Range": range_header} if range_header else {}
        response = await team.sup.call(client, "GET", url + query, headers=headers)
        return response.status, response.headers, await response.read()

    # One playback: the player asks from byte 0, then seeks.
    status, headers, body = await fetch("bytes=0-")
    assert (status, body) == (206, content)
    assert headers["Content-Range"] == f"bytes 0-{size - 1}/{size}"
    assert headers["Accept-Ranges"] == "bytes"
    assert headers["Content-Type"] == "audio/ogg"
    status, headers, body = await fetch("bytes=1000-1999")
    assert (status, body) == (206, content[1000:2000])
    assert headers["Content-Range"] == f"bytes 1000-1999/{size}"
    assert headers["Content-Length"] == "1000"
    status, headers, body = await fetch(f"bytes={size - 100}-")
    assert (status, body) == (206, content[-100:])
    status, _, body = await fetch("bytes=-50")
    assert (status, body) == (206, content[-50:])
    events = await playback_events(client)
    assert [(e.action, e.actor_id, e.details["range"]) for e in events] == [
        ("recording.playback", str(team.sup.user_id), "bytes=0-")
    ]
    assert events[0].details["booking_id"] == str(team.visits["declined"])

    # Ranges that cannot be served: 416 with the length, as JSON; nothing is logged.
    for bad in (f"bytes={size}-", f"bytes={size + 10}-{size + 20}", "bytes=5-1", "pages=1-2"):
        status, headers, body = await fetch(bad)
        assert status == 416, bad
        assert headers["Content-Range"] == f"bytes */{size}"
        assert b"range_not_satisfiable" in body
    assert len(await playback_events(client)) == 1

    # A second playback without Range, then a download: two more events.
    status, headers, body = await fetch(None)
    assert (status, body) == (200, content)
    assert headers["Content-Disposition"].startswith("inline;")
    status, headers, body = await fetch(None, "?download=true")
    assert (status, body) == (200, content)
    assert headers["Content-Disposition"].startswith("attachment;")
    assert [e.action for e in await playback_events(client)] == [
        "recording.playback",
        "recording.playback",
        "recording.download",
    ]


async def test_deleted_or_missing_recording_files_are_refused(client: TestClient) -> None:
    """A recording removed under retention is 410; one whose file is gone is 404."""
    team = await build_team(client)
    record = await add_record(client, team)
    url = f"/api/recordings/{record['recording'].id}/media"
    data_dir: Path = client.server.app[SETTINGS].data_dir
    (data_dir / record["recording"].path).unlink()
    body = await get_json(team.sup, client, url, status=404)
    assert "missing" in body["message"]
    async with database(client).transaction() as session:
        await session.execute(
            update(Recording)
            .where(Recording.id == record["recording"].id)
            .values(status=RecordingStatus.DELETED)
        )
    await get_json(team.sup, client, url, status=410)
    assert await playback_events(client) == []


async def queue(team: Team, client: TestClient) -> list[tuple[str, int, list[str]]]:
    names = {v: k for k, v in team.visits.items()}
    answer = await get_json(team.sup, client, "/api/review-queue")
    return [
        (names[uuid.UUID(i["booking_id"])], i["score"], [r["kind"] for r in i["reasons"]])
        for i in answer["items"]
    ]


async def test_review_queue_ranks_visits_by_their_signals(client: TestClient) -> None:
    """Risk outranks an overdue note, which outranks repeated no-shows, declined consent and
    a short visit; quiet visits, cancelled ones and other teams' never appear."""
    team = await build_team(client)
    assert await queue(team, client) == [
        ("risk", 50, ["risk"]),
        ("unsigned", 20 + 2 * (10 - 3), ["unsigned"]),
        ("no_show", 25, ["no_show_repeat"]),
        ("declined", 20, ["declined_consent"]),
        ("short", 15, ["short_visit"]),
    ]
    answer = await get_json(team.sup, client, "/api/review-queue")
    assert answer["thresholds"] == {
        "unsigned_days": 3,
        "short_visit_minutes": 5,
        "no_show_repeat": 2,
        "lookback_days": 90,
    }
    reasons = {i["booking_id"]: i["reasons"] for i in answer["items"]}
    (risk_reason,) = reasons[str(team.visits["risk"])]
    assert "self_harm" in risk_reason["text"]
    assert "I don't see the point any more" in risk_reason["text"]
    assert risk_reason["at"] == 135.0
    assert reasons[str(team.visits["unsigned"])][0]["text"] == (
        "Note still unsigned 10 days after the visit"
    )
    assert "missed 2 visits" in reasons[str(team.visits["no_show"])][0]["text"]
    assert "3.0 minutes" in reasons[str(team.visits["short"])][0]["text"]
    south = await get_json(team.other_sup, client, "/api/review-queue")
    assert [i["booking_id"] for i in south["items"]] == [str(team.visits["south"])]


async def test_thresholds_come_from_settings(service: Any) -> None:
    """Stricter settings raise more: a two-day-old draft and visits under 28 minutes count."""
    client = await service(review_unsigned_days=1, review_short_visit_minutes=28)
    team = await build_team(client)
    ranked = {name: kinds for name, _, kinds in await queue(team, client)}
    assert ranked["risk"] == ["risk", "unsigned"]
    assert ranked["unsigned"] == ["unsigned", "short_visit"]
    assert ranked["declined"] == ["declined_consent", "short_visit"]


async def test_marking_reviewed_takes_a_visit_off_the_queue_until_a_new_signal(
    client: TestClient,
) -> None:
    """A review with a comment removes the visit from the queue and is audited; a risk
    indicator added later brings it back."""
    team = await build_team(client)
    path = f"/api/review-queue/{team.visits['risk']}/reviewed"
    response = await team.sup.call(client, "POST", path, json={"comment": "  "})
    assert response.status == 400
    assert "comment" in (await response.json())["message"]
    response = await team.sup.call(
        client, "POST", path, json={"comment": "Called Ana; safety plan in place."}
    )
    assert response.status == 201, await response.text()
    review = await response.json()
    assert review["reviewer_name"] == "Sup"
    assert review["signals"] == ["risk:r1"]
    assert review["score"] == 50
    assert [name for name, _, _ in await queue(team, client)] == [
        "unsigned",
        "no_show",
        "declined",
        "short",
    ]
    async with database(client).transaction() as session:
        event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "visit.review"))
        assert event is not None
        assert event.object_id == str(team.visits["risk"])
        assert event.actor_id == str(team.sup.user_id)
        note = await session.scalar(
            select(VisitNote).where(VisitNote.booking_id == team.visits["risk"])
        )
        assert note is not None
        body = dict(note.body)
        body["risk_indicators"] = [
            *body["risk_indicators"],
            risk("r3", "child_safety", "He stays home alone", "suggested", 300.0),
        ]
        note.body = body
    assert (await queue(team, client))[0] == ("risk", 85, ["risk", "risk"])
    detail = await get_json(team.sup, client, f"/api/visits/{team.visits['risk']}")
    assert [r["comment"] for r in detail["reviews"]] == ["Called Ana; safety plan in place."]
    assert "visit.review" in [e["action"] for e in detail["audit"]]
    listed_rows = await get_json(team.sup, client, "/api/team/visits?status=completed")
    assert {r["booking_id"]: r["reviewed"] for r in listed_rows}[str(team.visits["risk"])]


async def test_marking_another_teams_visit_reviewed_is_not_found(client: TestClient) -> None:
    """A supervisor cannot review (or probe) another team's visit."""
    team = await build_team(client)
    path = f"/api/review-queue/{team.visits['south']}/reviewed"
    response = await team.sup.call(client, "POST", path, json={"comment": "Not mine."})
    assert response.status == 404
    async with database(client).transaction() as session:
        assert (
            await session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "visit.review")
            )
            == 0
        )


def period() -> str:
    first = (MIDNIGHT - timedelta(days=30)).date()
    return f"?from={first}&to={MIDNIGHT.date()}"


async def test_metrics_per_caseworker_and_team(client: TestClient) -> None:
    """Visits held, no-show rate, average length and hours to a signed note, by hand:
    Ana held 30, 25 and 30 minutes, signed one note 5 h after; Ben held 3 and 20 minutes,
    missed 2, signed 2 h and 26 h after; Cy had no visits."""
    team = await build_team(client)
    answer = await get_json(team.sup, client, "/api/team/metrics" + period())
    rows = {row["caseworker"]: row for row in answer["caseworkers"]}
    assert list(rows) == ["Ana", "Ben", "Cy"]
    figures = (
        "visits_held",
        "no_shows",
        "no_show_rate",
        "avg_duration_minutes",
        "notes_signed",
        "avg_hours_to_signed_note",
    )
    assert [rows["Ana"][f] for f in figures] == [3, 0, 0.0, 28.3, 1, 5.0]
    assert [rows["Ben"][f] for f in figures] == [2, 2, 0.5, 11.5, 2, 14.0]
    assert [rows["Cy"][f] for f in figures] == [0, 0, None, None, 0, None]
    assert [answer["team"][f] for f in figures] == [5, 2, 0.2857, 21.6, 3, 11.0]
    assert answer["team"]["caseworker"] == "North"
    assert rows["Ana"]["caseworker_id"] == str(team.cw["ana"])

    # A narrower period: the last three days hold Ana's risk and clean visits, Ben's two.
    first = (MIDNIGHT - timedelta(days=3)).date()
    narrow = await get_json(team.sup, client, f"/api/team/metrics?from={first}")
    assert narrow["first_day"] == str(first)
    assert narrow["last_day"] == str(MIDNIGHT.date())
    assert [narrow["team"][f] for f in figures] == [4, 0, 0.0, 20.8, 3, 11.0]


async def test_metrics_csv_matches_the_figures(client: TestClient) -> None:
    """The CSV export has a header, one row per caseworker and the team row, and is audited."""
    team = await build_team(client)
    response = await team.sup.call(client, "GET", "/api/team/metrics.csv" + period())
    assert response.status == 200
    assert response.content_type == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(await response.text())))
    assert rows == [
        [
            "caseworker_id",
            "caseworker",
            "visits_held",
            "no_shows",
            "no_show_rate",
            "avg_duration_minutes",
            "notes_signed",
            "avg_hours_to_signed_note",
        ],
        [str(team.cw["ana"]), "Ana", "3", "0", "0.0", "28.3", "1", "5.0"],
        [str(team.cw["ben"]), "Ben", "2", "2", "0.5", "11.5", "2", "14.0"],
        [str(team.cw["cy"]), "Cy", "0", "0", "", "", "0", ""],
        ["team", "North", "5", "2", "0.2857", "21.6", "3", "11.0"],
    ]
    async with database(client).transaction() as session:
        actions = list(await session.scalars(select(AuditEvent.action)))
    assert "metrics.export" in actions


async def test_metrics_csv_cells_never_run_as_formulas(client: TestClient) -> None:
    """A caseworker named like a spreadsheet formula is exported as text."""
    team = await build_team(client)
    async with database(client).transaction() as session:
        await session.execute(
            text("UPDATE staff_users SET display_name = :name WHERE username = 'cy'"),
            {"name": '=HYPERLINK("http://evil")'},
        )
    response = await team.sup.call(client, "GET", "/api/team/metrics.csv" + period())
    rows = list(csv.reader(io.StringIO(await response.text())))
    assert '\'=HYPERLINK("http://evil")' in [row[1] for row in rows]


async def test_metrics_refuse_a_period_that_ends_before_it_starts(client: TestClient) -> None:
    """from after to is a 400 that says so."""
    team = await build_team(client)
    body = await get_json(
        team.sup, client, "/api/team/metrics?from=2026-03-02&to=2026-03-01", status=400
    )
    assert "before" in body["message"]
    tomorrow = MIDNIGHT.date() + timedelta(days=5)
    body = await get_json(team.sup, client, f"/api/team/metrics?from={tomorrow}", status=400)
    assert "before" in body["message"]


@pytest.mark.parametrize("key_column", ["note_id", "visit_note_id"])
async def test_note_history_is_read_from_whatever_revisions_table_exists(
    client: TestClient, key_column: str
) -> None:
    """A revisions table of unknown shape is read by its note id column, in revision order;
    without one the history is empty."""
    team = await build_team(client)
    table = f"note_revisions_probe_{key_column}"
    async with database(client).transaction() as session:
        note_id = await session.scalar(
            select(VisitNote.id).where(VisitNote.booking_id == team.visits["risk"])
        )
        assert note_id is not None
        assert await note_history(session, [note_id], table) == []
        sqlite = session.bind.dialect.name == "sqlite"
        await session.execute(
            text(
                f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, {key_column} "
                f"{'CHAR(32)' if sqlite else 'UUID'} NOT NULL, revision INTEGER NOT NULL, "
                "summary TEXT NOT NULL, edited_at TIMESTAMP NOT NULL)"
            )
        )
        stored = note_id.hex if sqlite else note_id
        for revision, summary in ((2, "Second draft"), (1, "First draft")):
            await session.execute(
                text(
                    f"INSERT INTO {table} (id, {key_column}, revision, summary, edited_at) "
                    "VALUES (:revision, :note, :revision, :summary, :at)"
                ),
                {
                    "note": stored,
                    "revision": revision,
                    "summary": summary,
                    "at": datetime(2026, 5, 1, 12, revision),
                },
            )
        await session.execute(
            text(
                f"INSERT INTO {table} (id, {key_column}, revision, summary, edited_at) "
                "VALUES (3, :note, 1, 'Another note', :at)"
            ),
            {"note": uuid.uuid4().hex if sqlite else uuid.uuid4(), "at": datetime(2026, 5, 1)},
        )
        history = await note_history(session, [note_id], table)
    assert [(h["revision"], h["summary"]) for h in history] == [
        (1, "First draft"),
        (2, "Second draft"),
    ]
    assert history[0]["edited_at"] == "2026-05-01T12:01:00+00:00"
