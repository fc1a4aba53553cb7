"""Supervision API: the team's visits and filters, a visit's whole record, playback over HTTP
ranges (audited once per playback), the review queue from each signal, reviews, and metrics.

The world (tests/supervision_world.py) is a team's recent past as the rest of the service
leaves it in the database.
"""

from __future__ import annotations

import csv
import io
import os
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, text, update

from tests.supervision_world import (
    MIDNIGHT,
    Team,
    add_record,
    build_team,
    risk,
)
from tests.world import Persona, database
from visits.models import (
    AuditEvent,
    Recording,
    RecordingStatus,
    VisitNote,
)
from visits.supervision.detail import note_history
from visits.supervision.media import STREAM_CHUNK
from visits.web.keys import SETTINGS


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


async def test_large_video_streams_in_chunks_with_exact_ranges(client: TestClient) -> None:
    """A file several read chunks long comes back byte for byte, whole and in ranges that
    cross chunk boundaries, with the headers every answer carries."""
    team = await build_team(client)
    record = await add_record(client, team)
    data_dir: Path = client.server.app[SETTINGS].data_dir
    content = os.urandom(3 * STREAM_CHUNK + 12345)
    relative = Path(record["recording"].path).with_name("caseworker-video.webm")
    (data_dir / relative).write_bytes(content)
    async with database(client).transaction() as session:
        video = Recording(
            booking_id=team.visits["declined"],
            participant_role="caseworker",
            participant_name="Ben",
            kind="video",
            path=str(relative),
            status=RecordingStatus.FINALIZED,
        )
        session.add(video)
    url = f"/api/recordings/{video.id}/media"
    response = await team.sup.call(client, "GET", url)
    assert response.status == 200
    assert response.headers["Content-Type"] == "video/webm"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert await response.read() == content
    first, last = STREAM_CHUNK - 10, 2 * STREAM_CHUNK + 10
    response = await team.sup.call(client, "GET", url, headers={"Range": f"bytes={first}-{last}"})
    assert response.status == 206
    assert response.headers["Content-Range"] == f"bytes {first}-{last}/{len(content)}"
    assert await response.read() == content[first : last + 1]


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
    assert answer["total"] == 5
    top = await get_json(team.sup, client, "/api/review-queue?limit=2")
    assert (top["total"], len(top["items"])) == (5, 2)
    assert top["items"][0]["booking_id"] == str(team.visits["risk"])
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
