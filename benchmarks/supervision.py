"""Supervision reads on a busy team: how long a supervisor waits for each page's data.

For each engine (SQLite, PostgreSQL) this builds the whole service in this process on a scratch
database, writes a team's last 90 days (default: 10 caseworkers, 5000 visits; held, missed and
cancelled; notes draft or signed, some with risk indicators; consents, some declined), signs a
supervisor in, and times each route over HTTP on loopback (median and slowest of --repeat
calls). Its last line is one JSON object with every figure.

    python benchmarks/supervision.py [--visits 5000] [--caseworkers 10] [--engines sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp import ClientSession, CookieJar
from aiohttp.test_utils import TestServer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from run import build_app  # noqa: E402
from visits.db import Database  # noqa: E402
from visits.migrate import upgrade  # noqa: E402
from visits.models import (  # noqa: E402
    Booking,
    BookingStatus,
    Case,
    Client,
    Consent,
    ConsentChoice,
    NoteStatus,
    StaffRole,
    StaffUser,
    Team,
    VisitNote,
)
from visits.security import Passwords  # noqa: E402
from visits.settings import load_settings  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get(
    "VV_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PASSWORD = "benchmark password"


async def admin(sql: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def fill(database: Database, visits: int, caseworkers: int) -> str:
    """A team's 90 days; answers with one held visit's id (for the detail route)."""
    rng = random.Random(7)
    now = datetime.now(UTC)
    first = now - timedelta(days=90)
    async with database.transaction() as session:
        team = Team(name="Bench")
        session.add(team)
        await session.flush()
        session.add(
            StaffUser(
                username="supervisor",
                display_name="Bench Supervisor",
                role=StaffRole.SUPERVISOR,
                team_id=team.id,
                password_hash=await Passwords().hash(PASSWORD),
            )
        )
        workers = [
            StaffUser(
                username=f"cw{i}",
                display_name=f"Caseworker {i}",
                role=StaffRole.CASEWORKER,
                team_id=team.id,
                password_hash="!",
            )
            for i in range(caseworkers)
        ]
        session.add_all(workers)
        await session.flush()
        cases = []
        for i in range(max(1, visits // 10)):
            case = Case(case_number=f"B-{i}", caseworker_id=workers[i % caseworkers].id)
            case.clients = [Client(team_id=team.id, full_name=f"Client {i}")]
            cases.append(case)
        session.add_all(cases)
        await session.flush()
    by_worker = [[c for c in cases if c.caseworker_id == w.id] or cases for w in workers]
    per_worker = -(-visits // caseworkers)
    spacing = (now - first - timedelta(hours=2)) / per_worker
    held_id = ""
    for offset in range(0, visits, 1000):
        async with database.transaction() as session:
            for n in range(offset, min(visits, offset + 1000)):
                worker = n % caseworkers
                case = rng.choice(by_worker[worker])
                start = first + spacing * (n // caseworkers)
                status = rng.choices(
                    [BookingStatus.COMPLETED, BookingStatus.NO_SHOW, BookingStatus.CANCELLED],
                    [80, 12, 8],
                )[0]
                held = status is BookingStatus.COMPLETED
                minutes = rng.choice([3, 20, 30, 40]) if held else 0
                booking = Booking(
                    case_id=case.id,
                    caseworker_id=workers[worker].id,
                    client_id=case.clients[0].id,
                    start_at=start,
                    end_at=start + timedelta(minutes=45),
                    time_zone="UTC",
                    status=status,
                    started_at=start if held else None,
                    ended_at=start + timedelta(minutes=minutes) if held else None,
                )
                session.add(booking)
                await session.flush()
                if not held:
                    continue
                held_id = str(booking.id)
                signed = rng.random() < 0.8
                risks = (
                    [{"id": "r1", "category": "self_harm", "line": "…", "speaker": "Client",
                      "at": 60.0, "status": "suggested"}]
                    if rng.random() < 0.05
                    else []
                )  # fmt: skip
                session.add(
                    VisitNote(
                        booking_id=booking.id,
                        case_id=case.id,
                        status=NoteStatus.SIGNED if signed else NoteStatus.DRAFT,
                        body={"summary": "Visit held.", "risk_indicators": risks},
                        signed_by_id=workers[worker].id if signed else None,
                        signed_at=start + timedelta(hours=rng.randint(1, 72)) if signed else None,
                    )
                )
                declined = rng.random() < 0.05
                session.add(
                    Consent(
                        booking_id=booking.id,
                        participant_role="client",
                        participant_name=case.clients[0].full_name,
                        notice_version="bench",
                        language="en",
                        choice=ConsentChoice.DECLINED if declined else ConsentChoice.ACCEPTED,
                        answered_at=start,
                    )
                )
    return held_id


async def timed(http: ClientSession, url: str, repeat: int) -> dict[str, float | int]:
    durations = []
    size = 0
    for _ in range(repeat):
        began = time.perf_counter()
        async with http.get(url) as response:
            body = await response.read()
            assert response.status == 200, body[:300]
        durations.append((time.perf_counter() - began) * 1000)
        size = len(body)
    return {
        "median_ms": round(statistics.median(durations), 1),
        "max_ms": round(max(durations), 1),
        "bytes": size,
    }


async def run_engine(engine: str, visits: int, caseworkers: int, repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"vv-bench-supervision-{engine}-") as work:
        name = f"vv_bench_supervision_{os.getpid()}"
        url = f"sqlite+aiosqlite:///{work}/visits.db"
        if engine == "postgresql":
            await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin(f'CREATE DATABASE "{name}"')
            base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
            url = base.replace("postgresql://", "postgresql+asyncpg://", 1) + "/" + name
        try:
            database = Database(url)
            try:
                await upgrade(database.engine)
                began = time.perf_counter()
                held_id = await fill(database, visits, caseworkers)
                fill_seconds = time.perf_counter() - began
            finally:
                await database.close()
            settings = load_settings({}, data_dir=Path(work), database_url=url, log_level="WARNING")
            server = TestServer(build_app(settings), host="127.0.0.1")
            await server.start_server()
            try:
                base_url = str(server.make_url("")).rstrip("/")
                async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as http:
                    async with http.post(
                        base_url + "/api/session",
                        json={"username": "supervisor", "password": PASSWORD},
                    ) as response:
                        assert response.status == 200, await response.text()
                    routes = {
                        "team_visits": "/api/team/visits",
                        "team_visits_flagged": "/api/team/visits?flagged=true",
                        "visit_detail": f"/api/visits/{held_id}",
                        "review_queue": "/api/review-queue",
                        "metrics_90_days": "/api/team/metrics?from="
                        + (datetime.now(UTC) - timedelta(days=90)).date().isoformat(),
                        "metrics_csv": "/api/team/metrics.csv",
                    }
                    figures: dict[str, Any] = {"fill_seconds": round(fill_seconds, 1)}
                    for label, path in routes.items():
                        figures[label] = await timed(http, base_url + path, repeat)
            finally:
                await server.close()
            return figures
        finally:
            if engine == "postgresql":
                await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--visits", type=int, default=5000)
    parser.add_argument("--caseworkers", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    report: dict[str, Any] = {"visits": args.visits, "caseworkers": args.caseworkers}
    for engine in args.engines.split(","):
        figures = await run_engine(engine, args.visits, args.caseworkers, args.repeat)
        report[engine] = figures
        for label, f in figures.items():
            if isinstance(f, dict):
                print(
                    f"{engine:10} {label:20} median {f['median_ms']:8.1f} ms  "
                    f"max {f['max_ms']:8.1f} ms  {f['bytes']:9} bytes"
                )
    print(json.dumps(report, separators=(",", ":")))


if __name__ == "__main__":
    asyncio.run(main())
