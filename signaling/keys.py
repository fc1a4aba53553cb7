"""Typed application keys of the signaling room."""

from __future__ import annotations

from aiohttp import web

from signaling.live import LiveVisits

LIVE_VISITS = web.AppKey("live_visits", LiveVisits)
