"""The live-visits room: signaling WebSocket, visit pages, and the registry of live visits."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from signaling import routes
from signaling.keys import LIVE_VISITS
from signaling.live import LiveVisits
from signaling.recovery import recover_interrupted_visits
from signaling.socket import visit_socket
from visits.at_rest import encrypt_recordings
from visits.web.api import Api
from visits.web.app import static_page
from visits.web.keys import DATABASE, EVENTS, SETTINGS


def room(app: web.Application, api: Api) -> None:
    routes.register(api)
    app.router.add_get("/ws/visit", visit_socket)
    app.router.add_get("/v/{token}/join", static_page("join.html"))
    app.router.add_get("/kiosk", static_page("kiosk.html"))
    app.router.add_get("/console", static_page("console.html"))
    app.cleanup_ctx.append(_live_visits)
    app.on_shutdown.append(_end_live_visits)


async def _live_visits(app: web.Application) -> AsyncIterator[None]:
    """Recover what a crash left, then own the live visits until shutdown ends them all."""
    settings = app[SETTINGS]
    await recover_interrupted_visits(app[DATABASE], settings.data_dir)
    await encrypt_recordings(app[DATABASE], settings.data_dir, settings.recording_key_bytes)
    live = LiveVisits(app[SETTINGS], app[DATABASE], app[EVENTS])
    app[LIVE_VISITS] = live
    try:
        yield
    finally:
        await live.close()


async def _end_live_visits(app: web.Application) -> None:
    """On shutdown, end every visit first: that finalizes recordings and closes the sockets."""
    await app[LIVE_VISITS].close()
