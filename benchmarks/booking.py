"""Booking under load: many clients booking through one office-hours link at the same moment.

For each engine (SQLite, PostgreSQL) this starts `run.py serve` on a free port with a scratch
data directory (and, for PostgreSQL, a scratch database dropped afterwards), creates a
caseworker with office hours and a booking link, then drives concurrent clients:
  one-slot:   every client asks for the same slot (one must win, the rest get 409);
  many-slots: every client asks for a slot of its own.
It prints bookings per second, p50/p99 latency and double bookings found in the database
afterwards; its last line is one JSON object with every figure.

    python benchmarks/booking.py [--clients 100] [--engines sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from visits.db import create_engine  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get(
    "VV_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PASSWORD = "benchmark password"
DOUBLE_BOOKINGS = """
SELECT count(*) FROM bookings a JOIN bookings b
  ON a.caseworker_id = b.caseworker_id AND a.id < b.id
 AND a.start_at < b.end_at AND b.start_at < a.end_at
WHERE a.status IN ('scheduled', 'in_progress') AND b.status IN ('scheduled', 'in_progress')
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


class Server:
    """One `run.py serve` process on a scratch database."""

    def __init__(self, engine: str, work: Path) -> None:
        self.engine = engine
        self.work = work
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database = f"vv_bench_{os.getpid()}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("VV_")}
        self.env |= {"VV_LOG_LEVEL": "WARNING", "VV_BOOTSTRAP_ADMIN": "false"}
        if engine == "postgresql":
            base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
            self.env["VV_DATABASE_URL"] = (
                base.replace("postgresql://", "postgresql+asyncpg://", 1) + "/" + self.database
            )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def database_url(self) -> str:
        return self.env.get("VV_DATABASE_URL", f"sqlite+aiosqlite:///{self.work / 'visits.db'}")

    async def _admin(self, sql: str) -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    async def start(self) -> None:
        if self.engine == "postgresql":
            await self._admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            await self._admin(f'CREATE DATABASE "{self.database}"')
        common = ["--data-dir", str(self.work)]
        await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "run.py", "create-user", "--role", "caseworker", "--username",
             "bench", "--name", "Bench Worker", "--team", "Bench", *common],
            cwd=ROOT, env=self.env, input=PASSWORD + "\n", text=True, check=True,
            capture_output=True,
        )  # fmt: skip
        self.process = await asyncio.to_thread(
            subprocess.Popen,
            [sys.executable, "run.py", "serve", "--port", str(self.port), *common],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(self.url + "/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.engine} server did not start")

    async def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
        if self.engine == "postgresql":
            await self._admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    async def double_bookings(self) -> int:
        engine = create_engine(self.database_url)
        try:
            async with engine.connect() as connection:
                return int((await connection.execute(text(DOUBLE_BOOKINGS))).scalar_one())
        finally:
            await engine.dispose()


async def prepare(http: aiohttp.ClientSession, base: str) -> str:
    """Sign in as the caseworker, publish office hours, make a booking link; its token."""
    async with http.post(
        base + "/api/session", json={"username": "bench", "password": PASSWORD}
    ) as response:
        csrf = (await response.json())["csrf_token"]
    headers = {"X-CSRF-Token": csrf}
    hours = {
        "time_zone": "UTC",
        "slot_minutes": 30,
        "min_notice_minutes": 0,
        "horizon_days": 60,
        "blocks": [{"weekday": d, "start_time": "00:00", "end_time": "23:30"} for d in range(7)],
    }
    async with http.put(base + "/api/office-hours", json=hours, headers=headers) as response:
        assert response.status == 200, await response.text()
    async with http.post(base + "/api/share-links", json={}, headers=headers) as response:
        return str((await response.json())["url"].rsplit("/", 1)[1])


async def scenario(base: str, token: str, starts: list[datetime]) -> dict[str, Any]:
    """One client per start time, all at once; latencies and outcomes."""
    connector = aiohttp.TCPConnector(limit=len(starts))
    async with aiohttp.ClientSession(connector=connector) as http:

        async def book(index: int, start: datetime) -> tuple[int, float]:
            began = time.perf_counter()
            async with http.post(
                base + "/api/book",
                json={"start_at": start.isoformat(), "full_name": f"Client {index}"},
                headers={"X-Booking-Token": token},
            ) as response:
                await response.read()
                return response.status, time.perf_counter() - began

        began = time.perf_counter()
        results = await asyncio.gather(*(book(i, s) for i, s in enumerate(starts)))
        elapsed = time.perf_counter() - began
    statuses = [status for status, _ in results]
    latencies = [seconds * 1000 for _, seconds in results]
    booked = statuses.count(201)
    return {
        "requests": len(starts),
        "booked": booked,
        "refused_409": statuses.count(409),
        "other": len(starts) - booked - statuses.count(409),
        "seconds": round(elapsed, 3),
        "bookings_per_second": round(booked / elapsed, 1),
        "requests_per_second": round(len(starts) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
    }


async def run_engine(engine: str, clients: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"vv-bench-{engine}-") as work:
        server = Server(engine, Path(work))
        try:
            await server.start()
            # unsafe: keep cookies from an IP address (127.0.0.1)
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
                token = await prepare(http, server.url)
            day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            one = day + timedelta(days=2, hours=10)
            many = [day + timedelta(days=3, minutes=30 * i) for i in range(clients)]
            many = [s for s in many if s.hour < 23] or many
            figures = {
                "one_slot": await scenario(server.url, token, [one] * clients),
                "many_slots": await scenario(server.url, token, many),
            }
            figures["double_bookings"] = await server.double_bookings()
            return figures
        finally:
            await server.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=100, help="concurrent clients (100)")
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    report: dict[str, Any] = {"clients": args.clients}
    for engine in args.engines.split(","):
        figures = await run_engine(engine, args.clients)
        report[engine] = figures
        for name in ("one_slot", "many_slots"):
            f = figures[name]
            print(
                f"{engine:10} {name:10} booked {f['booked']:4}/{f['requests']:<4} "
                f"409s {f['refused_409']:4}  {f['bookings_per_second']:7.1f} bookings/s  "
                f"p50 {f['p50_ms']:7.1f} ms  p99 {f['p99_ms']:7.1f} ms"
            )
        print(f"{engine:10} double bookings in the database: {figures['double_bookings']}")
    print(json.dumps(report, separators=(",", ":")))


if __name__ == "__main__":
    asyncio.run(main())
