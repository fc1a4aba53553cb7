"""`audit verify` and `audit retention`: the audit log and retention from the command line.

Registered by visits.cli (which imports this module when it registers its commands)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from visits.audit_verify import verify
from visits.cli import run_command, settings_from
from visits.db import Database, utcnow
from visits.migrate import ensure_schema
from visits.retention import apply_retention


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    audit = commands.add_parser("audit", help="check the audit log; run retention now")
    actions = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")

    check = actions.add_parser(
        "verify",
        help="check the audit chain and the fingerprints of recordings, transcripts and "
        "signed notes; exits 1 naming each altered item",
    )
    check.add_argument("--data-dir", type=Path, help="data directory (default ./data)")

    def run_verify(args: argparse.Namespace) -> int:
        outcome: list[bool] = []

        async def work() -> None:
            settings = settings_from(args)
            database = Database(settings.database_url)
            try:
                await ensure_schema(database.engine)
                report = await verify(database, settings.data_dir, settings.recording_key_bytes)
            finally:
                await database.close()
            for problem in report.problems:
                print(problem)
            if report.ok:
                print(f"audit verify: OK: {report.summary()}")
            else:
                print(
                    f"audit verify: {len(report.problems)} problems; {report.summary()}",
                    file=sys.stderr,
                )
            outcome.append(report.ok)

        code = run_command(lambda: asyncio.run(work()))
        return code or (0 if outcome and outcome[0] else 1)

    check.set_defaults(run=run_verify)

    retain = actions.add_parser(
        "retention", help="delete what the retention settings say has expired, now"
    )
    retain.add_argument("--data-dir", type=Path, help="data directory (default ./data)")

    def run_retention(args: argparse.Namespace) -> int:
        async def work() -> None:
            settings = settings_from(args)
            database = Database(settings.database_url)
            try:
                await ensure_schema(database.engine)
                report = await apply_retention(database, settings, utcnow())
            finally:
                await database.close()
            print(f"retention: {report.summary()}")

        return run_command(lambda: asyncio.run(work()))

    retain.set_defaults(run=run_retention)
