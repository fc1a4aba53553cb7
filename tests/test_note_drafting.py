"""The draft note's rules: dates said aloud, owners, risks with their lines, key statements."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from visits.notes.dates import due_from
from visits.notes.drafting import NoteFacts, Participant, draft_note_body

CHICAGO = ZoneInfo("America/Chicago")
THURSDAY_BEFORE_DST_ENDS = date(2026, 10, 29)  # clocks go back on Sunday 1 November


@pytest.mark.parametrize(
    ("said", "due"),
    [
        ("The next visit is on Tuesday at ten in the morning.", "2026-11-03T10:00:00-06:00"),
        ("The next visit is on Tuesday at 10 in the morning.", "2026-11-03T10:00:00-06:00"),
        ("See you Tuesday at 10:30.", "2026-11-03T10:30:00-06:00"),
        ("Tuesday at half past ten works.", "2026-11-03T10:30:00-06:00"),
        ("I will call you Friday at 4.", "2026-10-30T16:00:00-05:00"),
        ("Bring the lease tomorrow.", "2026-10-30"),
        ("I will send it today.", "2026-10-29"),
        ("Let's meet next week.", "2026-11-05"),
        ("We will check again in two weeks.", "2026-11-12"),
        ("The hearing is on December 3rd at 2 pm.", "2026-12-03T14:00:00-06:00"),
        ("The hearing is on the 3rd of December.", "2026-12-03"),
        ("On Thursday we talk again.", "2026-11-05"),  # the visit's own weekday: a week on
    ],
)
def test_a_spoken_date_becomes_a_due_date_in_the_visits_time_zone(said: str, due: str) -> None:
    assert due_from(said, THURSDAY_BEFORE_DST_ENDS, CHICAGO) == due


@pytest.mark.parametrize("said", ["I have 2 children.", "We talked about food.", "At ten past."])
def test_numbers_that_are_no_date_give_no_due_date(said: str) -> None:
    assert due_from(said, THURSDAY_BEFORE_DST_ENDS, CHICAGO) is None


def facts(*lines: tuple[str, str, float, str]) -> NoteFacts:
    return NoteFacts(
        start_at=datetime(2026, 10, 29, 15, 0, tzinfo=UTC),
        end_at=datetime(2026, 10, 29, 15, 20, tzinfo=UTC),
        time_zone="America/Chicago",
        purpose="Monthly check-in",
        modality="video",
        participants=(
            Participant("caseworker", "Maria Lopez", True),
            Participant("client", "Dana Rivera", True),
            Participant("interpreter", "Ines Ortiz", True),
        ),
        segments=tuple(
            {
                "start": at,
                "end": at + 3,
                "text": text,
                "confidence": 0.9,
                "speaker_role": role,
                "speaker_name": name,
            }
            for role, name, at, text in lines
        ),
        provenance={"engine": "faster-whisper", "model": "tiny.en"},
    )


def test_the_draft_holds_the_visit_facts_action_items_and_risks_with_their_lines() -> None:
    body = draft_note_body(
        facts(
            ("caseworker", "Maria Lopez", 1.0, "How have you been since my last visit?"),
            (
                "client",
                "Dana Rivera",
                6.0,
                "I lost my job at the warehouse. I have not been eating much.",
            ),
            (
                "caseworker",
                "Maria Lopez",
                20.5,
                "I will send you the address of the food bank today. "
                "You need to bring your lease on Friday.",
            ),
            ("caseworker", "Maria Lopez", 30.0, "The next visit is on Tuesday at ten."),
        )
    )
    assert body["visit"] == {
        "date": "2026-10-29",
        "start": "10:00",
        "end": "10:20",
        "time_zone": "America/Chicago",
        "duration_minutes": 20.0,
        "modality": "video",
    }
    assert body["interpreter"] == "Ines Ortiz"
    assert body["purpose"] == "Monthly check-in"
    assert body["provenance"]["model"] == "tiny.en"
    assert {"food", "employment"} <= set(body["topics"])

    items = {item["text"]: item for item in body["action_items"]}
    assert items["The next visit is on Tuesday at ten."]["due"] == "2026-11-03T10:00:00-06:00"
    assert items["The next visit is on Tuesday at ten."]["owner"] == "Maria Lopez and Dana Rivera"
    send = items["I will send you the address of the food bank today."]
    assert (send["owner"], send["due"]) == ("Maria Lopez", "2026-10-29")
    bring = items["You need to bring your lease on Friday."]
    assert (bring["owner"], bring["due"]) == ("Dana Rivera", "2026-10-30")
    assert all(item["status"] == "suggested" for item in body["action_items"])

    risks = {r["category"]: r for r in body["risk_indicators"]}
    assert set(risks) == {"loss of income", "food insecurity"}
    assert risks["food insecurity"]["line"] == "I have not been eating much."
    assert risks["food insecurity"]["speaker"] == "Dana Rivera (client)"
    assert risks["food insecurity"]["at"] == 6.0

    statements = [s["text"] for s in body["key_statements"]]
    assert "I lost my job at the warehouse." in statements
    assert "How have you been since my last visit?" not in statements


def test_the_same_visit_drafts_the_same_note() -> None:
    lines = (("client", "Dana Rivera", 2.0, "I was evicted and I am homeless now."),)
    assert draft_note_body(facts(*lines)) == draft_note_body(facts(*lines))
    risks = draft_note_body(facts(*lines))["risk_indicators"]
    assert [r["category"] for r in risks] == ["eviction or homelessness"]


def test_a_silent_visit_drafts_a_note_with_facts_and_no_suggestions() -> None:
    body = draft_note_body(facts())
    assert body["action_items"] == []
    assert body["risk_indicators"] == []
    assert body["key_statements"] == []
    assert "Dana Rivera (client)" in body["summary"]
