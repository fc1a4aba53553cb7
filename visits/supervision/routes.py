"""The supervision API: the team's visits, a visit's record with playback, the review queue,
and metrics. Every route is for supervisors of the visit's team only (visits.access)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import Select, select

from visits import audit
from visits.access import (
    Audience,
    caseworker_scope,
    supervised_booking_for,
    supervised_booking_scope,
    supervised_caseworker_for,
    supervised_recording_for,
)
from visits.bookings import check_time_zone
from visits.db import utcnow
from visits.errors import Gone, InvalidInput
from visits.models import (
    Booking,
    BookingStatus,
    Case,
    Client,
    RecordingStatus,
    StaffRole,
    StaffUser,
    Team,
)
from visits.supervision import metrics
from visits.supervision.detail import review_out, staff_names, visit_detail
from visits.supervision.facts import FACT_COLUMNS, note_signatures, reviewed_keys, visit_facts
from visits.supervision.media import (
    check_range,
    media_type,
    open_plain,
    plain_size,
    recording_file,
    stream,
)
from visits.supervision.models import VisitReview
from visits.supervision.schemas import (
    MediaQuery,
    MetricsOut,
    MetricsRow,
    Period,
    QueueItem,
    QueueQuery,
    ReviewIn,
    ReviewOut,
    ReviewQueue,
    SignalOut,
    VisitDetail,
    VisitFilter,
    VisitRow,
)
from visits.supervision.schemas import Thresholds as ThresholdsOut
from visits.supervision.signals import Signal, Thresholds, rank, signals_of
from visits.web.api import Api, Call, json_response
from visits.web.errors import error_body

METRICS_DEFAULT_DAYS = 30
FLAGGED_SCAN = 5000  # visits looked at to find `limit` flagged ones


def _signal_out(signal: Signal) -> SignalOut:
    return SignalOut(**dataclasses.asdict(signal))


def _bounds(
    time_zone: str, first: date | None, last: date | None
) -> tuple[datetime | None, datetime | None]:
    """Days as instants: from the first day's midnight to the midnight after the last."""
    zone = check_time_zone(time_zone)
    start = datetime.combine(first, time(0), zone) if first else None
    end = datetime.combine(last + timedelta(days=1), time(0), zone) if last else None
    return start, end


def _visits_query(call: Call[Any, Any]) -> Select[Any]:
    """The team's visits as rows of the columns a list shows (thousands, so no ORM objects)."""
    return (
        select(
            *FACT_COLUMNS,
            Booking.case_id,
            Booking.caseworker_id,
            Booking.start_at,
            Booking.time_zone,
            Booking.kind,
            Booking.recording_status,
            Case.case_number,
            Client.full_name.label("client_name"),
            StaffUser.display_name.label("caseworker_name"),
        )
        .join(Case, Case.id == Booking.case_id)
        .join(Client, Client.id == Booking.client_id)
        .join(StaffUser, StaffUser.id == Booking.caseworker_id)
        .where(supervised_booking_scope(call.principal))
    )


def _details(query: VisitFilter) -> dict[str, str]:
    """The filters as the audit event records them."""
    return {
        key: str(value)
        for key, value in query.model_dump(by_alias=True, exclude_none=True).items()
        if key != "limit"
    }


async def team_visits(call: Call[None, VisitFilter]) -> list[VisitRow]:
    wanted = call.query
    start, end = _bounds(wanted.time_zone, wanted.from_, wanted.to)
    now = utcnow()
    thresholds = Thresholds.from_settings(call.settings)
    query = _visits_query(call)
    async with call.db.transaction() as session:
        if wanted.caseworker is not None:
            await supervised_caseworker_for(session, call.principal, wanted.caseworker)
            query = query.where(Booking.caseworker_id == wanted.caseworker)
        if start is not None:
            query = query.where(Booking.start_at >= start)
        if end is not None:
            query = query.where(Booking.start_at < end)
        if wanted.status is not None:
            query = query.where(Booking.status == wanted.status)
        if wanted.no_show is not None:
            no_show = Booking.status == BookingStatus.NO_SHOW
            query = query.where(no_show if wanted.no_show else ~no_show)
        scan = FLAGGED_SCAN if wanted.flagged is not None else wanted.limit
        found = (
            await session.execute(query.order_by(Booking.start_at.desc(), Booking.id).limit(scan))
        ).all()
        facts = {f.booking_id: f for f in await visit_facts(session, found, thresholds, now)}
        reviews = await reviewed_keys(session, facts)
        rows = []
        for row in found:
            signals = signals_of(facts[row.id], thresholds, now)
            if wanted.flagged is not None and bool(signals) != wanted.flagged:
                continue
            note_status = facts[row.id].note_status
            rows.append(
                VisitRow(
                    booking_id=row.id,
                    case_id=row.case_id,
                    case_number=row.case_number,
                    client_id=row.client_id,
                    client_name=row.client_name,
                    caseworker_id=row.caseworker_id,
                    caseworker_name=row.caseworker_name,
                    start_at=row.start_at,
                    end_at=row.end_at,
                    time_zone=row.time_zone,
                    status=row.status,
                    kind=row.kind.value,
                    held_minutes=_rounded(facts[row.id].held_minutes),
                    recording_status=row.recording_status.value,
                    note_status=note_status.value if note_status else None,
                    flags=sorted({s.kind for s in signals}),
                    score=sum(s.score for s in signals),
                    reviewed=row.id in reviews,
                )
            )
            if len(rows) == wanted.limit:
                break
        await audit.append(
            session,
            call.actor,
            "visit.list",
            "team",
            call.staff.team_id,
            details={"filters": _details(wanted), "count": len(rows)},
        )
    return rows


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


async def visit_record(call: Call[None, None]) -> VisitDetail:
    now = utcnow()
    thresholds = Thresholds.from_settings(call.settings)
    async with call.db.transaction() as session:
        booking = await supervised_booking_for(session, call.principal, call.ids["booking_id"])
        # Logged first, so the trail this answer shows includes this very look at it.
        await audit.append(session, call.actor, "visit.view", "booking", booking.id)
        (facts,) = await visit_facts(session, [booking], thresholds, now)
        return await visit_detail(session, booking, signals_of(facts, thresholds, now))


async def recording_media(call: Call[None, MediaQuery]) -> web.StreamResponse:
    request = call.request
    async with call.db.transaction() as session:
        recording = await supervised_recording_for(
            session, call.principal, call.ids["recording_id"]
        )
        if recording.status is RecordingStatus.DELETED:
            raise Gone("This recording was deleted under the retention rules.")
        path = recording_file(call.settings.data_dir, recording)
        file = open_plain(path, call.settings)
        try:
            size = plain_size(file)
            check = check_range(request, size)
            if check.satisfiable and check.starts_playback:
                await audit.append(
                    session,
                    call.actor,
                    "recording.download" if call.query.download else "recording.playback",
                    "recording",
                    recording.id,
                    details={
                        "booking_id": str(recording.booking_id),
                        "kind": recording.kind,
                        "range": request.headers.get("Range", ""),
                    },
                )
        except BaseException:
            file.close()
            raise
    if not check.satisfiable:
        file.close()
        answer = json_response(
            error_body(
                "range_not_satisfiable",
                f"Range {request.headers.get('Range', '')!r} is not within the "
                f"{size} bytes of this recording.",
            ),
            status=416,
        )
        answer.headers["Content-Range"] = f"bytes */{size}"
        return answer
    disposition = "attachment" if call.query.download else "inline"
    # The audit event committed with the transaction above, before the first byte is sent.
    return await stream(
        request,
        file,
        check,
        size,
        {
            "Content-Type": media_type(recording),
            "Content-Disposition": (
                f'{disposition}; filename="recording-{recording.id}{path.suffix}"'
            ),
        },
    )


async def review_queue(call: Call[None, QueueQuery]) -> ReviewQueue:
    now = utcnow()
    thresholds = Thresholds.from_settings(call.settings)
    since = now - timedelta(days=thresholds.lookback_days)
    async with call.db.transaction() as session:
        found = (
            await session.execute(
                _visits_query(call).where(
                    Booking.start_at >= since,
                    Booking.start_at <= now,
                    Booking.status != BookingStatus.CANCELLED,
                )
            )
        ).all()
        labels = {row.id: row for row in found}
        facts = await visit_facts(session, found, thresholds, now)
        ranked = rank(facts, thresholds, now, await reviewed_keys(session, labels))
        await audit.append(
            session,
            call.actor,
            "review_queue.view",
            "team",
            call.staff.team_id,
            details={"count": len(ranked)},
        )
    items = []
    for item in ranked[: call.query.limit]:
        row = labels[item.facts.booking_id]
        items.append(
            QueueItem(
                booking_id=row.id,
                case_number=row.case_number,
                client_name=row.client_name,
                caseworker_name=row.caseworker_name,
                start_at=row.start_at,
                time_zone=row.time_zone,
                status=row.status,
                score=item.score,
                reasons=[_signal_out(s) for s in item.signals],
            )
        )
    return ReviewQueue(
        thresholds=ThresholdsOut(**dataclasses.asdict(thresholds)), total=len(ranked), items=items
    )


async def mark_reviewed(call: Call[ReviewIn, None]) -> ReviewOut:
    now = utcnow()
    thresholds = Thresholds.from_settings(call.settings)
    async with call.db.transaction() as session:
        booking = await supervised_booking_for(session, call.principal, call.ids["booking_id"])
        (facts,) = await visit_facts(session, [booking], thresholds, now)
        signals = signals_of(facts, thresholds, now)
        review = VisitReview(
            booking_id=booking.id,
            reviewer_id=call.staff.user_id,
            comment=call.body.comment,
            signals=[s.key for s in signals],
            score=sum(s.score for s in signals),
        )
        session.add(review)
        await session.flush()
        await audit.append(
            session,
            call.actor,
            "visit.review",
            "booking",
            booking.id,
            details={"review_id": str(review.id), "signals": review.signals},
        )
        return review_out(review, {call.staff.user_id: call.staff.display_name})


async def _team_metrics(call: Call[None, Period], action: str) -> MetricsOut:
    zone = check_time_zone(call.query.time_zone)
    last = call.query.to or datetime.now(zone).date()
    first = call.query.from_ or last - timedelta(days=METRICS_DEFAULT_DAYS - 1)
    if first > last:
        raise InvalidInput(f"The period ends ({last}) before it starts ({first}).")
    start, end = _bounds(call.query.time_zone, first, last)
    async with call.db.transaction() as session:
        held_or_missed = await session.execute(
            select(
                Booking.id,
                Booking.caseworker_id,
                Booking.status,
                Booking.end_at,
                Booking.started_at,
                Booking.ended_at,
            ).where(
                supervised_booking_scope(call.principal),
                Booking.start_at >= start,
                Booking.start_at < end,
                Booking.status.in_([BookingStatus.COMPLETED, BookingStatus.NO_SHOW]),
            )
        )
        visits = held_or_missed.all()
        signed = await note_signatures(session, [v.id for v in visits])
        rows = [
            metrics.VisitRow(
                caseworker_id=v.caseworker_id,
                status=v.status,
                end_at=v.end_at,
                started_at=v.started_at,
                ended_at=v.ended_at,
                note_status=signed.get(v.id, (None, None))[0],
                note_signed_at=signed.get(v.id, (None, None))[1],
            )
            for v in visits
        ]
        team = await session.get(Team, call.staff.team_id)
        names = dict(
            (
                await session.execute(
                    select(StaffUser.id, StaffUser.display_name).where(
                        caseworker_scope(call.principal),
                        StaffUser.role == StaffRole.CASEWORKER,
                        StaffUser.active,
                    )
                )
            ).all()
        )
        names |= await staff_names(session, {r.caseworker_id for r in rows} - set(names))
        per_caseworker, overall = metrics.team_figures(rows, names, team.name if team else "Team")
        await audit.append(
            session,
            call.actor,
            action,
            "team",
            call.staff.team_id,
            details={"from": first.isoformat(), "to": last.isoformat()},
        )
    return MetricsOut(
        first_day=first,
        last_day=last,
        time_zone=call.query.time_zone,
        caseworkers=[MetricsRow(**f.as_dict()) for f in per_caseworker],
        team=MetricsRow(**overall.as_dict()),
    )


async def team_metrics(call: Call[None, Period]) -> MetricsOut:
    return await _team_metrics(call, "metrics.view")


async def team_metrics_csv(call: Call[None, Period]) -> web.Response:
    result = await _team_metrics(call, "metrics.export")
    figures = [metrics.Figures(**row.model_dump()) for row in [*result.caseworkers, result.team]]
    return web.Response(
        text=metrics.to_csv(figures[:-1], figures[-1]),
        content_type="text/csv",
        charset="utf-8",
        headers={
            "Content-Disposition": (
                f'attachment; filename="team-metrics-{result.first_day}-{result.last_day}.csv"'
            )
        },
    )


def register(api: Api) -> None:
    route = api.route
    route(
        "GET",
        "/api/team/visits",
        summary="The team's visits, newest first, with their signals; filter by caseworker, "
        "days, status, no-shows and flags",
        audience=Audience.SUPERVISOR,
        query=VisitFilter,
        response=list[VisitRow],
        tag="supervision",
        errors=(404,),
    )(team_visits)
    route(
        "GET",
        "/api/visits/{booking_id}",
        summary="A visit's whole record: participants, consents, recordings, transcript, note "
        "and its history, reviews, and who did what with it",
        audience=Audience.SUPERVISOR,
        response=VisitDetail,
        tag="supervision",
    )(visit_record)
    route(
        "GET",
        "/api/recordings/{recording_id}/media",
        summary="Play or download a recording (HTTP range requests); each playback is audited",
        audience=Audience.SUPERVISOR,
        query=MediaQuery,
        tag="supervision",
        raw_response="application/octet-stream",
        errors=(410, 416),
    )(recording_media)
    route(
        "GET",
        "/api/review-queue",
        summary="Visits that need a supervisor's attention, highest score first, with reasons",
        audience=Audience.SUPERVISOR,
        query=QueueQuery,
        response=ReviewQueue,
        tag="supervision",
    )(review_queue)
    route(
        "POST",
        "/api/review-queue/{booking_id}/reviewed",
        summary="Mark a visit reviewed with a comment; it leaves the queue until a new signal",
        audience=Audience.SUPERVISOR,
        body=ReviewIn,
        response=ReviewOut,
        status=201,
        tag="supervision",
    )(mark_reviewed)
    route(
        "GET",
        "/api/team/metrics",
        summary="Visits held, no-show rate, average length and time to a signed note, per "
        "caseworker and for the team (default: the last 30 days)",
        audience=Audience.SUPERVISOR,
        query=Period,
        response=MetricsOut,
        tag="supervision",
    )(team_metrics)
    route(
        "GET",
        "/api/team/metrics.csv",
        summary="The team metrics as a CSV file",
        audience=Audience.SUPERVISOR,
        query=Period,
        tag="supervision",
        raw_response="text/csv",
    )(team_metrics_csv)
