"""Health check and the OpenAPI document."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from visits.access import Audience
from visits.web.api import Api, Call, json_response
from visits.web.keys import API, TRANSLATIONS
from visits.web.openapi import openapi_document


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unreachable"]


async def health(call: Call[None, None]) -> Any:
    reachable = await call.db.ping()
    body = Health(
        status="ok" if reachable else "unavailable",
        database="ok" if reachable else "unreachable",
    )
    return json_response(body.model_dump(), status=200 if reachable else 503)


class Language(BaseModel):
    code: str
    name: str


async def languages(call: Call[None, None]) -> list[Language]:
    translations = call.request.app[TRANSLATIONS]
    return [
        Language(code=code, name=translations.text(code, "language.name"))
        for code in translations.languages
    ]


async def openapi(call: Call[None, None]) -> dict[str, Any]:
    return openapi_document(call.request.app[API].endpoints, "Virtual Visits API", "1")


def register(api: Api) -> None:
    api.route(
        "GET",
        "/healthz",
        summary="Whether the service and its database are up",
        audience=Audience.ANYONE,
        response=Health,
        tag="system",
        errors=(503,),
    )(health)
    api.route(
        "GET",
        "/api/openapi.json",
        summary="This API described in OpenAPI 3",
        audience=Audience.ANYONE,
        response=dict[str, Any],
        tag="system",
    )(openapi)
    api.route(
        "GET",
        "/api/languages",
        summary="Languages the client pages are available in",
        audience=Audience.ANYONE,
        response=list[Language],
        tag="system",
    )(languages)
