"""`audit verify` checks the hash chain and every fingerprint, naming exactly what changed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from aiohttp.test_utils import TestClient
from sqlalchemy import delete, func, select, update

from tests.records import data_dir, office, visit_on_record
from tests.world import database
from visits.audit_verify import verify
from visits.db import utcnow
from visits.models import AuditCheckpoint, AuditEvent, Transcript, VisitNote
from visits.retention import apply_retention
from visits.web.keys import SETTINGS

ROOT = Path(__file__).resolve().parents[1]


async def audit_verify(
    client: TestClient, action: str = "verify", **variables: str
) -> subprocess.CompletedProcess[str]:
    """`run.py audit ACTION` on the test service's data (the event loop keeps serving)."""
    settings = client.server.app[SETTINGS]
    env = {k: v for k, v in os.environ.items() if not k.startswith("VV_")} | {
        "VV_DATA_DIR": str(settings.data_dir),
        "VV_DATABASE_URL": settings.database_url,
        **variables,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "run.py",
        "audit",
        action,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return subprocess.CompletedProcess([], process.returncode, out.decode(), err.decode())


async def event_ids(client: TestClient) -> list[int]:
    async with database(client).transaction() as session:
        return list(await session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


async def test_untouched_record_verifies(client: TestClient) -> None:
    """A record nobody tampered with passes, and the command says what it checked."""
    team = await office(client)
    await visit_on_record(client, team.caseworker, "V-1")
    result = await audit_verify(client)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout
    assert "2 recordings, 1 transcripts, 1 signed notes" in result.stdout


async def test_altered_rows_and_files_are_each_named(client: TestClient) -> None:
    """An edited event, an edited and a deleted file, an edited transcript and signed note:
    the command fails and names every one of them."""
    team = await office(client)
    visit = await visit_on_record(client, team.caseworker, "V-2")
    ids = await event_ids(client)
    altered_event = ids[len(ids) // 2]
    async with database(client).transaction() as session:
        await session.execute(
            update(AuditEvent).where(AuditEvent.id == altered_event).values(actor_id="someone")
        )
        await session.execute(
            update(Transcript)
            .where(Transcript.id == visit.transcript.id)
            .values(segments=[visit.transcript.segments[0] | {"text": "Something else."}])
        )
        await session.execute(
            update(VisitNote)
            .where(VisitNote.id == visit.note.id)
            .values(body={"summary": "Not what was signed."})
        )
    changed, removed = visit.recordings
    with (data_dir(client) / changed.path).open("r+b") as file:
        file.seek(100)
        file.write(b"\x00tampered\x00")
    (data_dir(client) / removed.path).unlink()

    result = await audit_verify(client)
    assert result.returncode == 1
    out = result.stdout
    assert f"audit event #{altered_event} " in out
    assert "hash mismatch" in out
    assert f"recording {changed.id} file {changed.path}: sha256 mismatch" in out
    assert f"recording {removed.id} file {removed.path}: missing file" in out
    assert f"transcript {visit.transcript.id} altered" in out
    assert f"signed note {visit.note.id} altered" in out
    assert len(out.strip().splitlines()) == 5  # nothing else is blamed


async def test_a_removed_event_is_named_by_its_successor(client: TestClient) -> None:
    """Deleting an event from the middle breaks the link of the event after it."""
    team = await office(client)
    await visit_on_record(client, team.caseworker, "V-3")
    ids = await event_ids(client)
    async with database(client).transaction() as session:
        await session.execute(delete(AuditEvent).where(AuditEvent.id == ids[1]))
    report = await verify(database(client), data_dir(client), None)
    assert len(report.problems) == 1
    assert report.problems[0].startswith(f"audit event #{ids[2]} ")
    assert f"hash of event #{ids[0]}" in report.problems[0]


async def test_chain_verifies_after_retention_deleted_old_events(client: TestClient) -> None:
    """Retention cuts old events off the chain; what remains still verifies from the
    checkpoint, and later events keep chaining onto it."""
    team = await office(client)
    await visit_on_record(client, team.caseworker, "V-4")
    before = await event_ids(client)
    settings = client.server.app[SETTINGS].model_copy(update={"retention_audit_days": 30})
    report = await apply_retention(database(client), settings, utcnow() + timedelta(days=31))
    assert report.audit_events == len(before)
    remaining = await event_ids(client)
    assert len(remaining) == 1  # the retention event itself
    assert remaining[0] > before[-1]
    await visit_on_record(client, team.caseworker, "V-5")  # more events after the cut
    result = await verify(database(client), data_dir(client), None)
    assert result.ok, result.problems
    assert result.checkpoint_id == before[-1]

    # A second cut moves the checkpoint on; verification still holds.
    await apply_retention(database(client), settings, utcnow() + timedelta(days=31))
    async with database(client).transaction() as session:
        checkpoints = await session.scalar(select(func.count()).select_from(AuditCheckpoint))
    assert checkpoints == 2
    assert (await verify(database(client), data_dir(client), None)).ok


async def test_a_forged_checkpoint_is_detected(client: TestClient) -> None:
    """Deleting the start of the chain and writing a checkpoint to hide it does not pass."""
    team = await office(client)
    await visit_on_record(client, team.caseworker, "V-6")
    ids = await event_ids(client)
    async with database(client).transaction() as session:
        cut = await session.get(AuditEvent, ids[2])
        assert cut is not None
        forged = AuditCheckpoint(through_id=cut.id, through_hash=cut.hash, deleted=3)
        await session.execute(delete(AuditEvent).where(AuditEvent.id <= cut.id))
        session.add(forged)
    report = await verify(database(client), data_dir(client), None)
    assert [p for p in report.problems if "not confirmed" in p], report.problems


async def test_deleting_the_start_of_the_chain_is_detected(client: TestClient) -> None:
    """Without a checkpoint, a chain that does not start at genesis names its first event."""
    team = await office(client)
    await visit_on_record(client, team.caseworker, "V-7")
    ids = await event_ids(client)
    async with database(client).transaction() as session:
        await session.execute(delete(AuditEvent).where(AuditEvent.id <= ids[1]))
    report = await verify(database(client), data_dir(client), None)
    assert len(report.problems) == 1
    assert report.problems[0].startswith(f"audit event #{ids[2]} ")
    assert "genesis" in report.problems[0]


async def test_retention_command_runs_retention_once(client: TestClient) -> None:
    """`run.py audit retention` applies the configured periods now and says what it did."""
    team = await office(client)
    await visit_on_record(client, team.caseworker, "V-8", age=timedelta(days=10))
    result = await audit_verify(client, "retention", VV_RETENTION_RECORDING_DAYS="7")
    assert result.returncode == 0, result.stderr
    assert "retention: deleted 2 recordings, 0 transcripts" in result.stdout
    assert (await audit_verify(client)).returncode == 0


async def test_a_note_signed_through_the_api_verifies_until_changed(client: TestClient) -> None:
    """The fingerprint the notes service writes at sign-off is the one verify checks: a
    freshly signed note passes; changing its body afterwards is named."""
    team = await office(client)
    visit = await visit_on_record(client, team.caseworker, "V-9")
    async with database(client).transaction() as session:
        draft = VisitNote(
            booking_id=visit.booking_id,
            case_id=visit.case_id,
            body={"summary": "Talked about rent.", "action_items": [], "risk_indicators": []},
        )
        session.add(draft)
    signed = await team.caseworker.call(client, "POST", f"/api/notes/{draft.id}/sign")
    assert signed.status == 200, await signed.text()
    assert (await verify(database(client), data_dir(client), None)).ok
    async with database(client).transaction() as session:
        await session.execute(
            update(VisitNote)
            .where(VisitNote.id == draft.id)
            .values(body={"summary": "Talked about something else."})
        )
    report = await verify(database(client), data_dir(client), None)
    assert [p.split(" altered")[0] for p in report.problems] == [f"signed note {draft.id}"]
