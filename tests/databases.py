"""Fresh, migrated databases for tests: SQLite files and PostgreSQL databases.

Each engine is migrated once per test run into a template; every test gets its own copy,
so tests never see each other's rows and migrations run from empty at least once per engine.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path

import asyncpg

from visits.db import create_engine
from visits.migrate import upgrade

POSTGRES_ADMIN_URL = os.environ.get(
    "VV_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
ENGINES = tuple(os.environ.get("VV_TEST_ENGINES", "sqlite,postgresql").split(","))


def _asyncpg_url(database: str) -> str:
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{database}"


async def migrate_url(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


class SqliteDatabases:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.template = directory / "template.db"

    async def prepare(self) -> None:
        await migrate_url(f"sqlite+aiosqlite:///{self.template}")

    async def create(self) -> str:
        path = self.directory / f"{uuid.uuid4().hex}.db"
        shutil.copyfile(self.template, path)
        return f"sqlite+aiosqlite:///{path}"

    async def drop(self, url: str) -> None:
        path = Path(url.removeprefix("sqlite+aiosqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    async def close(self) -> None:
        await self.drop(f"sqlite+aiosqlite:///{self.template}")


class PostgresDatabases:
    def __init__(self) -> None:
        self.template = f"vv_template_{os.getpid()}"

    async def _admin(self, sql: str) -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    async def prepare(self) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{self.template}"')
        await self._admin(f'CREATE DATABASE "{self.template}"')
        await migrate_url(_asyncpg_url(self.template))

    async def create(self) -> str:
        name = f"vv_test_{uuid.uuid4().hex[:16]}"
        await self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return _asyncpg_url(name)

    async def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def close(self) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')


def run(coroutine: object) -> object:
    return asyncio.run(coroutine)  # type: ignore[arg-type]
