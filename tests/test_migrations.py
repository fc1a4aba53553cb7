"""Migrations build the whole schema from an empty database on every engine."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import inspect

from tests.databases import ENGINES, POSTGRES_ADMIN_URL
from visits.db import Base, create_engine
from visits.migrate import SchemaOutOfDate, current_revision, ensure_schema, head_revision, upgrade

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(params=ENGINES)
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"vv_empty_{tmp_path.name[-20:].lower().replace('-', '_')}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    yield f"{base}/{name}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def test_migrations_create_every_table_from_empty(empty_database_url: str) -> None:
    """An empty database migrated to head has every table the models declare."""
    engine = create_engine(empty_database_url)
    try:
        assert await current_revision(engine) is None
        await upgrade(engine)
        assert await current_revision(engine) == head_revision()
        async with engine.connect() as connection:
            tables = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
        assert set(Base.metadata.tables) <= tables
    finally:
        await engine.dispose()


async def test_outdated_schema_is_refused_with_advice(empty_database_url: str) -> None:
    """A database at an older revision makes start-up stop and say to run migrate."""
    engine = create_engine(empty_database_url)
    try:
        await upgrade(engine)
        async with engine.begin() as connection:
            await connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'old'")
        with pytest.raises(SchemaOutOfDate, match=r"run `python run\.py migrate`"):
            await ensure_schema(engine)
    finally:
        await engine.dispose()


def test_migrate_command_creates_the_sqlite_database(tmp_path: Path) -> None:
    """`run.py migrate` on a new data directory creates and migrates the SQLite file."""
    result = subprocess.run(
        [sys.executable, "run.py", "migrate", "--data-dir", str(tmp_path / "data")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    assert (tmp_path / "data" / "visits.db").exists()
