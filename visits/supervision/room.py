"""The supervision room: its API routes and the supervisor's page."""

from __future__ import annotations

from aiohttp import web

from visits.supervision import routes
from visits.web.api import Api
from visits.web.app import static_page


def room(app: web.Application, api: Api) -> None:
    routes.register(api)
    app.router.add_get("/supervisor", static_page("supervisor.html"))
