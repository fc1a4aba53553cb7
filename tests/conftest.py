"""Fixtures shared by all tests: a fresh database per test on every engine, and the app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import DummyCookieJar
from aiohttp.test_utils import TestClient

from run import build_app
from tests.databases import ENGINES, PostgresDatabases, SqliteDatabases
from visits.settings import Settings, load_settings

# Browser tests: their fixtures, and the loopback-only network namespace they run in.
pytest_plugins = ["tests.browser", "tests.netns"]


@pytest.fixture(scope="session")
def database_templates(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, SqliteDatabases | PostgresDatabases]]:
    """Migrated template databases, one per engine, built once per test run."""
    templates: dict[str, SqliteDatabases | PostgresDatabases] = {}
    for engine in ENGINES:
        templates[engine] = (
            SqliteDatabases(tmp_path_factory.mktemp("sqlite"))
            if engine == "sqlite"
            else PostgresDatabases()
        )
        asyncio.run(templates[engine].prepare())
    yield templates
    for databases in templates.values():
        asyncio.run(databases.close())


@pytest.fixture(params=ENGINES)
async def database_url(
    request: pytest.FixtureRequest,
    database_templates: dict[str, SqliteDatabases | PostgresDatabases],
) -> AsyncIterator[str]:
    """A migrated, empty database of its own for one test, on each engine in turn."""
    databases = database_templates[request.param]
    url = await databases.create()
    yield url
    await databases.drop(url)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings({}, data_dir=tmp_path / "data", database_url=database_url)


@pytest.fixture
async def client(aiohttp_client, settings: Settings) -> AsyncIterator[TestClient]:  # type: ignore[no-untyped-def]
    """The whole service behind a test client that keeps no cookies (personas send their own).

    Closed here, before its database is dropped, so the rooms' resources (job scheduler,
    outbox sender) stop while their database still exists.
    """
    test_client = await aiohttp_client(build_app(settings), cookie_jar=DummyCookieJar())
    yield test_client
    await test_client.close()


@pytest.fixture
async def service(
    aiohttp_client, settings: Settings
) -> AsyncIterator[Callable[..., Awaitable[TestClient]]]:  # type: ignore[no-untyped-def]
    """Starts the service with some settings changed (call it again to restart on the same
    data); every app started is stopped before its database is dropped."""
    started: list[TestClient] = []

    async def start(**changes: Any) -> TestClient:
        test_client = await aiohttp_client(
            build_app(settings.model_copy(update=changes)), cookie_jar=DummyCookieJar()
        )
        started.append(test_client)
        return test_client

    yield start
    for test_client in started:
        await test_client.close()
