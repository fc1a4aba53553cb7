"""The case page's timeline: each visit with its recordings, transcript and note state, and
the messages the client was sent about it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from tests.live import live_booking
from tests.world import book, database, tomorrow_at
from visits.models import (
    Case,
    Client,
    NoteStatus,
    Recording,
    RecordingStatus,
    Transcript,
    VisitNote,
)


async def test_the_timeline_shows_each_visit_with_what_it_left(client) -> None:  # type: ignore[no-untyped-def]
    visit = await live_booking(client)
    async with database(client).transaction() as session:
        session.add(
            Recording(
                booking_id=visit.booking_id,
                participant_role="client",
                participant_name="Dana Client",
                kind="audio",
                path="r/a.ogg",
                duration_seconds=61.5,
                status=RecordingStatus.FINALIZED,
            )
        )
        session.add(Transcript(booking_id=visit.booking_id, status="done"))
        note = VisitNote(
            booking_id=visit.booking_id,
            case_id=uuid.UUID(visit.booking["booking"]["case_id"]),
            status=NoteStatus.SIGNED,
            body={},
        )
        session.add(note)
        await session.flush()
        session.add(
            VisitNote(
                booking_id=visit.booking_id,
                case_id=note.case_id,
                addendum_to_id=note.id,
                status=NoteStatus.SIGNED,
                body={"text": "later"},
            )
        )
    case_id = visit.booking["booking"]["case_id"]
    response = await visit.caseworker.call(client, "GET", f"/api/cases/{case_id}/timeline")
    assert response.status == 200, await response.text()
    timeline: list[dict[str, Any]] = await response.json()
    assert len(timeline) == 1
    item = timeline[0]
    assert item["booking"]["id"] == str(visit.booking_id)
    assert item["booking"]["status"] == "scheduled"
    assert item["client_name"] == "Dana Client"
    assert [(r["kind"], r["duration_seconds"]) for r in item["recordings"]] == [("audio", 61.5)]
    assert item["transcript_status"] == "done"
    assert (item["note"]["status"], item["note"]["addenda"]) == ("signed", 1)

    messages = await (
        await visit.caseworker.call(client, "GET", f"/api/cases/{case_id}/messages")
    ).json()
    assert {m["kind"] for m in messages} >= {"confirmed"}
    assert all(m["booking_id"] == str(visit.booking_id) for m in messages)
    assert "body" not in messages[0]


async def test_upcoming_visits_come_first_and_have_nothing_on_record_yet(client) -> None:  # type: ignore[no-untyped-def]
    visit = await live_booking(client)
    async with database(client).transaction() as session:
        case = await session.get(Case, uuid.UUID(visit.booking["booking"]["case_id"]))
        person = await session.get(Client, uuid.UUID(visit.booking["booking"]["client_id"]))
    later = await book(client, visit.caseworker, case, person, tomorrow_at(15) + timedelta(days=3))
    case_id = visit.booking["booking"]["case_id"]
    timeline = await (
        await visit.caseworker.call(client, "GET", f"/api/cases/{case_id}/timeline")
    ).json()
    starts = [t["booking"]["start_at"] for t in timeline]
    assert starts == sorted(starts, reverse=True)
    fresh = next(t for t in timeline if t["booking"]["id"] == later["booking"]["id"])
    assert (fresh["recordings"], fresh["transcript_status"], fresh["note"]) == ([], None, None)
