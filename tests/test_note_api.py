"""The caseworker reviews the draft note: edits it, decides every suggestion, signs it, adds
addenda, exports it; supervisors read it; every step is on the note's history and audit log."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tests.live import LiveBooking, live_booking
from tests.world import database, staff_persona
from visits.models import AuditEvent, StaffRole, StaffUser, Team, Transcript, VisitNote
from visits.notes.service import attach_draft_note, fingerprint

SEGMENTS = [
    {
        "start": 1.0,
        "end": 4.0,
        "text": "How have you been since my last visit?",
        "speaker_role": "caseworker",
        "speaker_name": "Casey",
    },
    {
        "start": 6.0,
        "end": 11.0,
        "text": "I lost my job at the warehouse. I have not been eating much.",
        "speaker_role": "client",
        "speaker_name": "Dana Client",
    },
    {
        "start": 12.0,
        "end": 15.0,
        "text": "The next visit is on Tuesday at ten in the morning.",
        "speaker_role": "caseworker",
        "speaker_name": "Casey",
    },
]


async def drafted(visit: LiveBooking) -> dict[str, Any]:
    """The booking's draft note, made the way the transcription queue makes it."""
    async with database(visit.client).transaction() as session:
        session.add(
            Transcript(
                booking_id=visit.booking_id,
                status="done",
                engine="faster-whisper",
                model="tiny.en",
                versions={"faster-whisper": "1.2.1"},
                segments=SEGMENTS,
                sha256="a" * 64,
            )
        )
        await session.flush()
        await attach_draft_note(session, visit.booking_id)
    response = await call(visit, "GET", f"/api/bookings/{visit.booking_id}/note")
    assert response["status"] == "draft"
    return response


async def call(
    visit: LiveBooking,
    method: str,
    path: str,
    json: Any = None,
    status: int = 200,
    persona: Any = None,
) -> Any:
    response = await (persona or visit.caseworker).call(visit.client, method, path, json=json)
    assert response.status == status, await response.text()
    if response.content_type == "application/json":
        return await response.json()
    return await response.text()


async def test_review_edit_decide_sign_then_only_addenda(client) -> None:  # type: ignore[no-untyped-def]
    visit = await live_booking(client)
    note = await drafted(visit)
    body = note["body"]
    follow_up = next(i for i in body["action_items"] if "next visit" in i["text"])
    assert follow_up["due"].startswith(_tuesday_after(visit))
    assert follow_up["due"][11:16] == "10:00"
    assert {r["category"] for r in body["risk_indicators"]} == {"food insecurity", "loss of income"}
    assert body["provenance"]["transcript_sha256"] == "a" * 64
    assert body["purpose"] == "Monthly check-in"
    note_id = note["id"]

    edited = await call(
        visit,
        "PUT",
        f"/api/notes/{note_id}",
        {"summary": "Client lost her job; <script>alert(1)</script> food help."},
    )
    assert edited["body"]["summary"].startswith("Client lost her job")
    assert edited["body"]["risk_indicators"] == body["risk_indicators"]

    refused = await call(visit, "POST", f"/api/notes/{note_id}/sign", status=409)
    assert "Confirm or dismiss every suggestion" in refused["message"]

    for item in body["action_items"]:
        await call(
            visit, "POST", f"/api/notes/{note_id}/suggestions/{item['id']}", {"decision": "confirm"}
        )
    for risk in body["risk_indicators"]:
        decision = "confirm" if risk["category"] == "food insecurity" else "dismiss"
        decided = await call(
            visit, "POST", f"/api/notes/{note_id}/suggestions/{risk['id']}", {"decision": decision}
        )
    statuses = {r["category"]: r["status"] for r in decided["body"]["risk_indicators"]}
    assert statuses == {"food insecurity": "confirmed", "loss of income": "dismissed"}

    signed = await call(visit, "POST", f"/api/notes/{note_id}/sign")
    assert signed["status"] == "signed"
    assert signed["signed_by"] == "Casey"
    assert len(signed["sha256"]) == 64

    # Signed means immutable: no edit, no decision, no second signature, no re-draft.
    await call(visit, "PUT", f"/api/notes/{note_id}", {"summary": "changed"}, status=409)
    await call(visit, "POST", f"/api/notes/{note_id}/sign", status=409)
    await call(
        visit,
        "POST",
        f"/api/notes/{note_id}/suggestions/{follow_up['id']}",
        {"decision": "dismiss"},
        status=409,
    )
    async with database(client).transaction() as session:
        again = await attach_draft_note(session, visit.booking_id)
    assert str(again.id) == note_id
    assert (await call(visit, "GET", f"/api/bookings/{visit.booking_id}/note"))["body"] == (
        signed["body"]
    )

    with_addendum = await call(
        visit,
        "POST",
        f"/api/notes/{note_id}/addenda",
        {"text": "Client found a new job on Monday."},
        status=201,
    )
    assert [a["text"] for a in with_addendum["addenda"]] == ["Client found a new job on Monday."]
    assert with_addendum["sha256"] == signed["sha256"]

    text = await call(visit, "GET", f"/api/notes/{note_id}/export?format=text")
    assert "VISIT NOTE (SIGNED by Casey" in text
    assert "[confirmed] The next visit is on Tuesday at ten in the morning." in text
    assert "[dismissed] loss of income" in text
    assert "ADDENDUM signed by Casey" in text
    page = await call(visit, "GET", f"/api/notes/{note_id}/export?format=html")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    assert "SIGNED by Casey" in page
    exported = await call(visit, "GET", f"/api/notes/{note_id}/export?format=json")
    assert exported["addenda"][0]["text"] == "Client found a new job on Monday."
    await call(visit, "GET", f"/api/notes/{note_id}/export?format=pdf", status=400)

    history = await call(visit, "GET", f"/api/notes/{note_id}/history")
    assert [h["action"] for h in history] == (["drafted", "edited"] + ["decided"] * 3 + ["signed"])
    assert history[0]["author"] == "system"
    assert history[-1]["author"] == "Casey"

    listed = await call(visit, "GET", f"/api/cases/{signed['case_id']}/notes")
    assert [(n["status"], n["addenda"]) for n in listed] == [("signed", 1)]

    async with database(client).transaction() as session:
        actions = list(await session.scalars(select(AuditEvent.action)))
    for action in (
        "note.view",
        "note.edit",
        "note.decide",
        "note.sign",
        "note.addendum",
        "note.export",
        "note.history",
        "note.list",
    ):
        assert action in actions, action
    assert actions.count("note.decide") == 3


async def test_a_supervisor_reads_and_exports_but_does_not_change_the_note(client) -> None:  # type: ignore[no-untyped-def]
    visit = await live_booking(client)
    note = await drafted(visit)
    async with database(client).transaction() as session:
        team_id = await session.scalar(
            select(StaffUser.team_id).where(StaffUser.username == "casey")
        )
        team = await session.get(Team, team_id)
    supervisor = await staff_persona(client, "sam", StaffRole.SUPERVISOR, team)
    read = await call(visit, "GET", f"/api/bookings/{visit.booking_id}/note", persona=supervisor)
    assert read["id"] == note["id"]
    await call(visit, "GET", f"/api/notes/{note['id']}/export?format=text", persona=supervisor)
    refused = await call(
        visit, "PUT", f"/api/notes/{note['id']}", {"summary": "x"}, status=403, persona=supervisor
    )
    assert "supervisor" in refused["message"]


async def test_bad_changes_are_refused_and_name_the_problem(client) -> None:  # type: ignore[no-untyped-def]
    visit = await live_booking(client)
    note_id = (await drafted(visit))["id"]
    empty = await call(visit, "PUT", f"/api/notes/{note_id}", {}, status=400)
    assert "summary" in empty["message"]
    risky = await call(visit, "PUT", f"/api/notes/{note_id}", {"risk_indicators": []}, status=400)
    assert "risk_indicators" in risky["message"]
    wrong = await call(
        visit,
        "POST",
        f"/api/notes/{note_id}/suggestions/{uuid.uuid4()}",
        {"decision": "confirm"},
        status=404,
    )
    assert "suggestion" in wrong["message"]
    await call(visit, "POST", f"/api/notes/{note_id}/addenda", {"text": "x"}, status=409)
    await call(visit, "GET", f"/api/bookings/{uuid.uuid4()}/note", status=404)


def _tuesday_after(visit: LiveBooking) -> str:
    """The first Tuesday after the visit's own date where it took place (America/Chicago)."""
    start = datetime.fromisoformat(visit.booking["booking"]["start_at"])
    day = start.astimezone(ZoneInfo(visit.booking["booking"]["time_zone"])).date()
    return (day + timedelta(days=(1 - day.weekday() - 1) % 7 + 1)).isoformat()


async def add_transcript(visit: LiveBooking, segments: list[dict[str, Any]]) -> None:
    """A newer transcript of the visit (a retried job), drafted again as the queue does."""
    async with database(visit.client).transaction() as session:
        session.add(
            Transcript(
                booking_id=visit.booking_id,
                status="done",
                engine="faster-whisper",
                model="tiny.en",
                versions={"faster-whisper": "1.2.1", "ctranslate2": "4.5.0"},
                segments=segments,
                sha256="b" * 64,
            )
        )
        await session.flush()
        await attach_draft_note(session, visit.booking_id)


async def test_a_redraft_keeps_the_caseworkers_work_and_the_draft_exports_say_draft(client) -> None:  # type: ignore[no-untyped-def]
    visit = await live_booking(client)
    note = await drafted(visit)
    note_id = note["id"]
    food = next(r for r in note["body"]["risk_indicators"] if r["category"] == "food insecurity")
    await call(visit, "PUT", f"/api/notes/{note_id}", {"summary": "Written by Casey."})
    await call(
        visit, "POST", f"/api/notes/{note_id}/suggestions/{food['id']}", {"decision": "confirm"}
    )

    line = "My landlord said <b>we</b> will be evicted on Friday."
    await add_transcript(
        visit,
        [*SEGMENTS, {"start": 17.0, "end": 21.0, "text": line, "speaker_role": "client",
                     "speaker_name": "Dana Client"}],
    )  # fmt: skip
    again = await call(visit, "GET", f"/api/bookings/{visit.booking_id}/note")
    assert again["id"] == note_id
    assert again["status"] == "draft"
    assert again["body"]["summary"] == "Written by Casey."
    assert again["body"]["provenance"]["transcript_sha256"] == "b" * 64
    statuses = {r["category"]: r["status"] for r in again["body"]["risk_indicators"]}
    assert statuses == {
        "food insecurity": "confirmed",
        "loss of income": "suggested",
        "eviction or homelessness": "suggested",
    }
    history = await call(visit, "GET", f"/api/notes/{note_id}/history")
    assert [h["action"] for h in history] == ["drafted", "edited", "decided", "drafted"]

    text = await call(visit, "GET", f"/api/notes/{note_id}/export?format=text")
    assert text.startswith("VISIT NOTE (DRAFT - not signed)")
    assert f"[suggested] eviction or homelessness: [00:17] Dana Client (client): {line}" in text
    assert "versions: ctranslate2 4.5.0, faster-whisper 1.2.1" in text
    assert "Signature fingerprint: none (not signed)" in text
    page = await call(visit, "GET", f"/api/notes/{note_id}/export?format=html")
    assert "DRAFT - not signed" in page
    assert "@media print" in page
    assert "<b>we</b>" not in page
    assert "&lt;b&gt;we&lt;/b&gt;" in page
    exported = await call(visit, "GET", f"/api/notes/{note_id}/export?format=json")
    assert (exported["status"], exported["sha256"]) == ("draft", None)


async def test_a_signature_covers_body_signer_and_time_and_addenda_sign_themselves(client) -> None:  # type: ignore[no-untyped-def]
    visit = await live_booking(client)
    note = await drafted(visit)
    note_id = note["id"]
    for item in note["body"]["action_items"] + note["body"]["risk_indicators"]:
        await call(
            visit, "POST", f"/api/notes/{note_id}/suggestions/{item['id']}", {"decision": "dismiss"}
        )
    signed = await call(visit, "POST", f"/api/notes/{note_id}/sign")
    await call(visit, "POST", f"/api/notes/{note_id}/addenda", {"text": "   "}, status=400)
    noted = await call(
        visit, "POST", f"/api/notes/{note_id}/addenda", {"text": "Called the food bank."}, 201
    )
    addendum = noted["addenda"][0]
    # An addendum is not a note of its own: no addenda to it, no edits through it.
    await call(visit, "POST", f"/api/notes/{addendum['id']}/addenda", {"text": "x"}, status=404)
    await call(visit, "PUT", f"/api/notes/{addendum['id']}", {"summary": "x"}, status=404)

    async with database(client).transaction() as session:
        stored = await session.get(VisitNote, uuid.UUID(note_id))
        extra = await session.get(VisitNote, uuid.UUID(addendum["id"]))
        assert stored is not None
        assert extra is not None
        assert fingerprint(stored) == stored.sha256 == signed["sha256"]
        assert fingerprint(extra) == extra.sha256 == addendum["sha256"]
    tampered = VisitNote(
        id=stored.id,
        body={**stored.body, "summary": "quietly changed"},
        signed_by_id=stored.signed_by_id,
        signed_at=stored.signed_at,
    )
    assert fingerprint(tampered) != signed["sha256"]  # a changed body no longer verifies
    text = await call(visit, "GET", f"/api/notes/{note_id}/export?format=text")
    assert f"Signature fingerprint: SHA-256 {signed['sha256']}" in text
    assert f"(SHA-256 {addendum['sha256']})\nCalled the food bank." in text
