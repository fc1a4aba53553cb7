"""Typed keys for what the application and each request carry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from visits.db import Database
from visits.events import Events
from visits.i18n import Translations
from visits.settings import Settings

if TYPE_CHECKING:
    from visits.access import Principal
    from visits.web.api import Api
    from visits.web.auth import Authenticator

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)
EVENTS = web.AppKey("events", Events)
TRANSLATIONS = web.AppKey("translations", Translations)
API: web.AppKey[Api] = web.AppKey("api")
AUTHENTICATOR: web.AppKey[Authenticator] = web.AppKey("authenticator")
PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("principal")
