"""Typed keys for what the application and each request carry."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from visits.db import Database
from visits.settings import Settings

if TYPE_CHECKING:
    from visits.access import Principal
    from visits.web.api import Api
    from visits.web.auth import Authenticator

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)
API: web.AppKey[Api] = web.AppKey("api")
AUTHENTICATOR: web.AppKey[Authenticator] = web.AppKey("authenticator")
PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("principal")

# Told after a booking was created or changed (and committed); rooms add theirs, e.g. the
# scheduler moves reminder jobs. `visits.web.api.Call.booking_changed` calls them.
BookingObserver = Callable[[uuid.UUID], Awaitable[None]]
BOOKING_OBSERVERS: web.AppKey[list[BookingObserver]] = web.AppKey("booking_observers")
