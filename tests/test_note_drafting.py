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
        ("Tuesday at 10am then.", "2026-11-03T10:00:00-06:00"),
        ("Tuesday at 10 a.m. then.", "2026-11-03T10:00:00-06:00"),
        ("Tuesday at ten thirty.", "2026-11-03T10:30:00-06:00"),
        ("Tuesday at quarter past ten.", "2026-11-03T10:15:00-06:00"),
        ("Tuesday at quarter to eleven.", "2026-11-03T10:45:00-06:00"),
        ("Call me tonight at 7 pm.", "2026-10-29T19:00:00-05:00"),
        ("The hearing is Dec. 3rd.", "2026-12-03"),
        ("The form is due 12/3.", "2026-12-03"),
        ("The lease ends 1/5/27.", "2027-01-05"),
        ("The school meeting was March 2nd.", "2027-03-02"),  # no year: the next March 2
        ("Let's talk again in a week.", "2026-11-05"),
    ],
)
def test_a_spoken_date_becomes_a_due_date_in_the_visits_time_zone(said: str, due: str) -> None:
    assert due_from(said, THURSDAY_BEFORE_DST_ENDS, CHICAGO) == due


def test_the_same_words_give_the_same_local_time_on_both_sides_of_the_dst_change() -> None:
    """Tuesday at ten is 10:00 on the wall clock whether the offset is -05:00 or -06:00."""
    before = due_from("Next visit Tuesday at ten.", date(2026, 10, 22), CHICAGO)
    after = due_from("Next visit Tuesday at ten.", THURSDAY_BEFORE_DST_ENDS, CHICAGO)
    assert before == "2026-10-27T10:00:00-05:00"
    assert after == "2026-11-03T10:00:00-06:00"
    spring = due_from("Next visit Tuesday at half past ten.", date(2026, 3, 5), CHICAGO)
    assert spring == "2026-03-10T10:30:00-05:00"  # clocks went forward on Sunday 8 March


@pytest.mark.parametrize(
    "said", ["I have 2 children.", "We talked about food.", "At ten past.", "The tenant left."]
)
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


def test_sentences_end_where_the_speaker_ended_them_not_at_abbreviations() -> None:
    said = (
        "We meet Dec. 3 at 10 a.m. and then again later. Mr. Jones will call you. "
        "My sister can watch the kids."
    )
    body = draft_note_body(facts(("caseworker", "Maria Lopez", 4.0, said)))
    items = [(i["text"], i["owner"], i["due"]) for i in body["action_items"]]
    assert items == [("Mr. Jones will call you.", "Mr. Jones", None)]
    statements = [s["text"] for s in body["key_statements"]]
    assert statements == [
        "We meet Dec. 3 at 10 a.m. and then again later.",
        "Mr. Jones will call you.",
    ]


def test_a_silent_visit_drafts_a_note_with_facts_and_no_suggestions() -> None:
    body = draft_note_body(facts())
    assert body["action_items"] == []
    assert body["risk_indicators"] == []
    assert body["key_statements"] == []
    assert "Dana Rivera (client)" in body["summary"]


@pytest.mark.parametrize(
    ("role", "name", "said", "owner", "due"),
    [
        ("caseworker", "Maria Lopez", "Bring your lease on Friday.", "Dana Rivera", "2026-10-30"),
        ("caseworker", "Maria Lopez", "Please call the landlord tomorrow.", "Dana Rivera",
         "2026-10-30"),
        ("client", "Dana Rivera", "Send me the form next week.", "Maria Lopez", "2026-11-05"),
        ("client", "Dana Rivera", "My sister will drive me on Monday.", "Dana Rivera's sister",
         "2026-11-02"),
        ("caseworker", "Maria Lopez", "Your landlord needs to fix the heat.",
         "Dana Rivera's landlord", None),
        ("caseworker", "Maria Lopez", "Dana will apply for SNAP in two weeks.", "Dana Rivera",
         "2026-11-12"),
        ("caseworker", "Maria Lopez", "Mr. Jones will call you on December 3rd.", "Mr. Jones",
         "2026-12-03"),
        ("client", "Dana Rivera", "I'll email the school today.", "Dana Rivera", "2026-10-29"),
    ],
)  # fmt: skip
def test_an_action_item_names_who_does_it_and_when(
    role: str, name: str, said: str, owner: str, due: str | None
) -> None:
    items = draft_note_body(facts((role, name, 3.0, said)))["action_items"]
    assert [(i["text"], i["owner"], i["due"], i["at"]) for i in items] == [(said, owner, due, 3.0)]


@pytest.mark.parametrize(
    "said", ["Take care.", "How are the kids doing?", "It was a hard month.", "Thank you."]
)
def test_small_talk_is_no_action_item(said: str) -> None:
    assert draft_note_body(facts(("caseworker", "Maria Lopez", 3.0, said)))["action_items"] == []


@pytest.mark.parametrize(
    ("said", "category"),
    [
        ("Some days I want to die.", "self-harm"),
        ("He pushed me against the wall last week.", "violence or abuse"),
        ("We have been sleeping in the car since Sunday.", "eviction or homelessness"),
        ("The kids go to bed hungry most nights.", "food insecurity"),
        ("I started drinking again after the funeral.", "substance use"),
        ("I ran out of my pills two weeks ago.", "missed medication"),
        ("The kids are home alone while I work nights.", "child safety"),
    ],
)
def test_each_risk_category_points_at_the_line_and_who_said_it(said: str, category: str) -> None:
    body = draft_note_body(
        facts(
            ("caseworker", "Maria Lopez", 1.0, "How are things at home?"),
            ("client", "Dana Rivera", 7.5, f"Well. {said}"),
        )
    )
    risks = [r for r in body["risk_indicators"] if r["category"] == category]
    assert len(risks) == 1
    assert risks[0]["line"] == said
    assert (risks[0]["speaker"], risks[0]["at"], risks[0]["status"]) == (
        "Dana Rivera (client)",
        7.5,
        "suggested",
    )
