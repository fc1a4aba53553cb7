"""From hang-up to draft note: a real visit between two aiortc participants playing recorded
speech ends with a transcript whose lines carry the right speakers and a draft note on the
booking holding the follow-up date that was said."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.live import LIVE_SETTINGS
from tests.world import database
from transcription.demo import book_demo_visit, hold_visit, wait_for_note

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def speaker_of(lines: list[dict[str, Any]], words: str) -> tuple[str, str]:
    line = next(line for line in lines if words in line["text"].lower())
    return line["speaker_role"], line["speaker_name"]


def next_tuesday_after(day: date) -> date:
    return day + timedelta(days=(1 - day.weekday() - 1) % 7 + 1)


def check_visit(result: dict[str, Any]) -> None:
    lines = result["transcript"]["segments"]
    assert speaker_of(lines, "family services") == ("caseworker", "Maria Lopez")
    assert speaker_of(lines, "lost my job") == ("client", "Dana Rivera")
    assert speaker_of(lines, "next visit is on tuesday") == ("caseworker", "Maria Lopez")
    assert speaker_of(lines, "doing well in school") == ("client", "Dana Rivera")
    assert [line["start"] for line in lines] == sorted(line["start"] for line in lines)

    note = result["note"]
    assert note["status"] == "draft"
    body = note["body"]
    visit_day = date.fromisoformat(body["visit"]["date"])
    follow_up = next(i for i in body["action_items"] if "next visit" in i["text"].lower())
    due = datetime.fromisoformat(follow_up["due"])
    assert due.date() == next_tuesday_after(visit_day)
    assert (due.hour, due.minute) == (10, 0)
    assert due.utcoffset() == ZoneInfo("America/Chicago").utcoffset(due.replace(tzinfo=None))
    assert "food insecurity" in {r["category"] for r in body["risk_indicators"]}
    assert {p["name"] for p in body["participants"]} == {"Maria Lopez", "Dana Rivera"}
    assert all(c["choice"] == "accepted" for c in body["consent"])


async def test_a_visit_ends_with_its_transcript_and_a_draft_note_on_the_booking(service) -> None:  # type: ignore[no-untyped-def]
    client = await service(**LIVE_SETTINGS)
    db = database(client)
    visit = await book_demo_visit(db)
    await hold_visit(str(client.make_url("")).rstrip("/"), visit)
    check_visit(await wait_for_note(db, visit.booking_id, within=300))


def test_the_demo_command_prints_the_visit_transcript_and_note_as_json(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "run.py", "demo", "--json", "--data-dir", str(tmp_path / "demo")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert set(result) >= {"visit_id", "transcript", "note"}
    check_visit(result)
    assert (tmp_path / "demo" / "visits.db").is_file()
    recordings = tmp_path / "demo" / "recordings" / result["visit_id"]
    assert len(list(recordings.glob("*.ogg"))) == 2


def test_the_demo_refuses_a_data_directory_in_use(tmp_path: Path) -> None:
    (tmp_path / "busy.txt").write_text("keep me")
    done = subprocess.run(
        [sys.executable, "run.py", "demo", "--data-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "empty or new directory" in done.stderr
    assert (tmp_path / "busy.txt").read_text() == "keep me"
