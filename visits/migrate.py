"""Apply the Alembic migrations of every package to the configured database."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData
from sqlalchemy.ext.asyncio import AsyncEngine

from visits.db import Base

logger = logging.getLogger(__name__)


class SchemaOutOfDate(Exception):
    """The database was migrated by another version of the code."""


MIGRATIONS = Path(__file__).with_name("migrations")

# Packages whose tables share our metadata (named, not imported: visits depends on no room);
# only autogenerate needs them imported.
MODEL_MODULES = (
    "visits.models",
    "scheduler.models",
    "signaling.models",
    "transcription.models",
)


def target_metadata() -> MetaData:
    for module in MODEL_MODULES:
        importlib.import_module(module)
    return Base.metadata


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None for an empty database."""

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(read)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database to `revision` (default: the newest)."""

    def run(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)
    logger.info("database migrated to %s", revision)


async def ensure_schema(engine: AsyncEngine) -> None:
    """Create the schema in an empty database; refuse to run on an outdated one."""
    current = await current_revision(engine)
    if current is None:
        await upgrade(engine)
    elif current != head_revision():
        raise SchemaOutOfDate(
            f"The database is at revision {current} but this code needs {head_revision()}: "
            "run `python run.py migrate` first."
        )
