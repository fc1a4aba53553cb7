"""The one application factory: the core's routes plus the rooms (packages) it is given."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

from aiohttp import web

from visits.db import Database
from visits.errors import NotFound
from visits.events import Events
from visits.i18n import Translations
from visits.migrate import ensure_schema
from visits.notes import routes as notes
from visits.security import Passwords
from visits.settings import Settings
from visits.web.api import Api
from visits.web.auth import Authenticator
from visits.web.errors import json_errors, security_headers
from visits.web.keys import API, AUTHENTICATOR, DATABASE, EVENTS, SETTINGS, TRANSLATIONS
from visits.web.routes import admin, bookings, cases, holds, session, system, timeline

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
MAX_JSON_BODY = 1024 * 1024

# A room adds its routes to the API, and its pages, resources and jobs to the app.
Room = Callable[[web.Application, Api], None]


def static_page(name: str) -> Callable[[web.Request], object]:
    """A handler answering with one HTML page from static/."""

    async def page(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC_DIR / name, headers={"Cache-Control": "no-cache"})

    return page


async def static_file(request: web.Request) -> web.FileResponse:
    """A file under static/, and nothing outside it however the path is spelled (`..`,
    escapes, symlinks); a miss is a JSON 404 like every other error."""
    relative = request.match_info["path"]
    path = await asyncio.to_thread(_inside_static, relative)
    if path is None:
        raise NotFound(f"Nothing at {request.path}.")
    return web.FileResponse(path, headers={"Cache-Control": "no-cache"})


def _inside_static(relative: str) -> Path | None:
    root = STATIC_DIR.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def create_app(settings: Settings, rooms: Sequence[Room] = ()) -> web.Application:
    app = web.Application(
        middlewares=[security_headers, json_errors], client_max_size=MAX_JSON_BODY
    )
    app[SETTINGS] = settings
    app[EVENTS] = Events()
    app[TRANSLATIONS] = Translations.load()
    app.cleanup_ctx.append(_database)

    api = Api()
    app[API] = api
    for register in (
        system.register,
        session.register,
        admin.register,
        cases.register,
        bookings.register,
        holds.register,
        notes.register,
        timeline.register,
    ):
        register(api)
    for room in rooms:
        room(app, api)
    api.install(app)

    app.router.add_get("/", static_page("index.html"))
    app.router.add_get("/workspace", static_page("workspace.html"))
    app.router.add_get("/cases/{case_id}", static_page("case.html"))
    app.router.add_get("/visits/{booking_id}/note", static_page("note.html"))
    app.router.add_get("/admin", static_page("admin.html"))
    app.router.add_get("/static/{path:.+}", static_file)
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(settings.database_url)
    try:
        await ensure_schema(database.engine)
        app[DATABASE] = database
        app[AUTHENTICATOR] = Authenticator(settings, database, Passwords())
        yield
    finally:
        await database.close()
