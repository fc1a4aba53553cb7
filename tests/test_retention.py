"""Retention deletes what expired, keeps fingerprints and audit events, and obeys legal holds."""

from __future__ import annotations

from datetime import timedelta

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from scheduler.jobs import RETENTION_JOB
from scheduler.keys import JOBS
from tests.records import data_dir, office, visit_on_record
from tests.world import database
from visits.audit_verify import verify
from visits.db import utcnow
from visits.models import AuditEvent, Recording, RecordingStatus, Transcript, VisitNote
from visits.retention import apply_retention
from visits.settings import Settings
from visits.web.keys import SETTINGS

DAY = timedelta(days=1)


def retention_settings(client: TestClient, **days: int) -> Settings:
    return client.server.app[SETTINGS].model_copy(
        update={f"retention_{kind}_days": value for kind, value in days.items()}
    )


async def retention_events(client: TestClient) -> dict[str, dict[str, object]]:
    async with database(client).transaction() as session:
        events = await session.scalars(
            select(AuditEvent).where(AuditEvent.action == "retention.delete")
        )
        return {event.object_id: event.details for event in events}


async def test_expired_recordings_lose_their_files_but_keep_fingerprints(
    client: TestClient,
) -> None:
    """Past its period a recording's file is gone, its row says deleted with its sha256, and
    an audit event names it; a younger recording is untouched."""
    team = await office(client)
    old = await visit_on_record(client, team.caseworker, "R-1", age=40 * DAY)
    young = await visit_on_record(client, team.caseworker, "R-2", age=10 * DAY)
    settings = retention_settings(client, recording=30)

    report = await apply_retention(database(client), settings, utcnow())

    assert report.recordings == 2
    events = await retention_events(client)
    async with database(client).transaction() as session:
        for recording in old.recordings:
            row = await session.get(Recording, recording.id)
            assert row is not None
            assert row.status is RecordingStatus.DELETED
            assert row.sha256 == recording.sha256
            assert not (data_dir(client) / recording.path).exists()
            assert events[str(recording.id)]["sha256"] == recording.sha256
        for recording in young.recordings:
            row = await session.get(Recording, recording.id)
            assert row is not None
            assert row.status is RecordingStatus.FINALIZED
            assert (data_dir(client) / recording.path).exists()
    # Deleted recordings are not "missing files": the record still verifies.
    assert (await verify(database(client), data_dir(client), None)).ok


async def test_the_clock_decides_what_expired(client: TestClient) -> None:
    """The same records are kept on day 29 and deleted on day 31 (a controlled clock)."""
    team = await office(client)
    visit = await visit_on_record(client, team.caseworker, "R-3")
    settings = retention_settings(client, recording=30, transcript=30, note=30)
    kept = await apply_retention(database(client), settings, utcnow() + 29 * DAY)
    assert (kept.recordings, kept.transcripts, kept.notes) == (0, 0, 0)
    gone = await apply_retention(database(client), settings, utcnow() + 31 * DAY)
    assert (gone.recordings, gone.transcripts, gone.notes) == (2, 1, 1)
    async with database(client).transaction() as session:
        transcript = await session.get(Transcript, visit.transcript.id)
        note = await session.get(VisitNote, visit.note.id)
    assert transcript is not None
    assert note is not None
    assert (transcript.text, transcript.segments) == ("", [])
    assert transcript.deleted_at is not None
    assert transcript.sha256 == visit.transcript.sha256
    assert note.body == {}
    assert note.deleted_at is not None
    assert note.sha256 == visit.note.sha256
    events = await retention_events(client)
    assert events[str(visit.transcript.id)]["sha256"] == visit.transcript.sha256
    assert events[str(visit.note.id)]["sha256"] == visit.note.sha256
    # Running again deletes nothing more and the record still verifies.
    again = await apply_retention(database(client), settings, utcnow() + 32 * DAY)
    assert (again.recordings, again.transcripts, again.notes) == (0, 0, 0)
    assert (await verify(database(client), data_dir(client), None)).ok


async def test_zero_days_keeps_everything_forever(client: TestClient) -> None:
    """With every period 0 (the default) nothing is ever deleted."""
    team = await office(client)
    await visit_on_record(client, team.caseworker, "R-4", age=3650 * DAY)
    report = await apply_retention(
        database(client), client.server.app[SETTINGS], utcnow() + 3650 * DAY
    )
    assert report.summary().startswith("deleted 0 recordings, 0 transcripts, 0 notes, 0 audit")


async def test_a_legal_hold_stops_deletion_until_released(client: TestClient) -> None:
    """A hold on the case keeps its recordings, transcript, note and their audit events;
    a hold on one visit keeps that visit; after release the next run deletes them."""
    team = await office(client)
    on_case = await visit_on_record(client, team.caseworker, "H-1", age=40 * DAY)
    on_visit = await visit_on_record(client, team.caseworker, "H-2", age=40 * DAY)
    free = await visit_on_record(client, team.caseworker, "H-3", age=40 * DAY)
    holds = []
    for target in ({"case_id": str(on_case.case_id)}, {"booking_id": str(on_visit.booking_id)}):
        response = await team.supervisor.call(
            client, "POST", "/api/legal-holds", json=target | {"reason": "Court order 12/26"}
        )
        assert response.status == 201, await response.text()
        holds.append((await response.json())["id"])
    settings = retention_settings(client, recording=30, transcript=30, note=30, audit=30)

    report = await apply_retention(database(client), settings, utcnow() + 31 * DAY)

    assert (report.recordings, report.transcripts, report.notes) == (2, 1, 1)  # `free` only
    async with database(client).transaction() as session:
        for visit in (on_case, on_visit):
            for recording in visit.recordings:
                row = await session.get(Recording, recording.id)
                assert row is not None
                assert row.status is RecordingStatus.FINALIZED
            transcript = await session.get(Transcript, visit.transcript.id)
            assert transcript is not None
            assert transcript.deleted_at is None
        held_events = set(
            await session.scalars(
                select(AuditEvent.object_id).where(
                    AuditEvent.object_id.in_([str(on_case.booking_id), str(on_visit.booking_id)])
                )
            )
        )
        assert held_events == {str(on_case.booking_id), str(on_visit.booking_id)}
        for recording in free.recordings:
            row = await session.get(Recording, recording.id)
            assert row is not None
            assert row.status is RecordingStatus.DELETED
    assert (await verify(database(client), data_dir(client), None)).ok

    for hold_id in holds:
        response = await team.supervisor.call(client, "POST", f"/api/legal-holds/{hold_id}/release")
        assert response.status == 200, await response.text()
    report = await apply_retention(database(client), settings, utcnow() + 31 * DAY)
    assert (report.recordings, report.transcripts, report.notes) == (4, 2, 2)
    assert report.audit_events > 0
    assert (await verify(database(client), data_dir(client), None)).ok


async def test_only_a_supervisor_places_and_releases_holds(client: TestClient) -> None:
    """Caseworkers may list holds on their cases but not place or release them; a hold
    released twice is a conflict; both changes are audited."""
    team = await office(client)
    visit = await visit_on_record(client, team.caseworker, "H-4")
    body = {"case_id": str(visit.case_id), "reason": "Litigation"}
    refused = await team.caseworker.call(client, "POST", "/api/legal-holds", json=body)
    assert refused.status == 403
    both = await team.supervisor.call(
        client, "POST", "/api/legal-holds", json=body | {"booking_id": str(visit.booking_id)}
    )
    assert both.status == 400
    placed = await team.supervisor.call(client, "POST", "/api/legal-holds", json=body)
    hold = await placed.json()
    listed = await team.caseworker.call(client, "GET", "/api/legal-holds")
    assert [h["id"] for h in await listed.json()] == [hold["id"]]
    path = f"/api/legal-holds/{hold['id']}/release"
    assert (await team.caseworker.call(client, "POST", path)).status == 403
    assert (await team.supervisor.call(client, "POST", path)).status == 200
    assert (await team.supervisor.call(client, "POST", path)).status == 409
    assert await (await team.caseworker.call(client, "GET", "/api/legal-holds")).json() == []
    everything = await team.caseworker.call(client, "GET", "/api/legal-holds?active=false")
    assert len(await everything.json()) == 1
    async with database(client).transaction() as session:
        actions = list(
            await session.scalars(
                select(AuditEvent.action).where(AuditEvent.action.like("legal_hold.%"))
            )
        )
    assert actions == ["legal_hold.place", "legal_hold.release"]


async def test_retention_runs_as_a_daily_stored_job(client: TestClient) -> None:
    """The scheduler keeps one daily retention job at the configured hour."""
    scheduler = client.server.app[JOBS].planner.scheduler
    assert scheduler is not None
    job = scheduler.get_job(RETENTION_JOB)
    assert job is not None
    assert str(job.trigger).startswith("cron[")
    assert "hour='3'" in str(job.trigger)
