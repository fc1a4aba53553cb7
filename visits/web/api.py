"""The JSON API's one way to declare an endpoint.

An `Endpoint` names its audience, body and response models; the wrapper built here
authenticates the caller, admits them, checks CSRF, validates input, and serializes the
answer. The same declarations produce the OpenAPI document, so it always lists every route.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from visits.access import Audience, LinkPrincipal, Principal, StaffPrincipal, admit
from visits.audit import Actor
from visits.db import Database
from visits.errors import Forbidden, InvalidInput, NotFound, UnsupportedMediaType
from visits.events import BookingChanged
from visits.settings import Settings
from visits.web.keys import AUTHENTICATOR, DATABASE, EVENTS, SETTINGS

logger = logging.getLogger(__name__)

BodyT = TypeVar("BodyT", bound=BaseModel | None)
QueryT = TypeVar("QueryT", bound=BaseModel | None)

_PATH_PARAM = re.compile(r"\{(\w+)\}")
_UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class Call(Generic[BodyT, QueryT]):
    """Everything a handler needs about one request, already checked."""

    request: web.Request
    principal: Principal
    body: BodyT
    query: QueryT
    ids: dict[str, uuid.UUID]

    @property
    def settings(self) -> Settings:
        return self.request.app[SETTINGS]

    @property
    def db(self) -> Database:
        return self.request.app[DATABASE]

    @property
    def staff(self) -> StaffPrincipal:
        assert isinstance(self.principal, StaffPrincipal)
        return self.principal

    @property
    def link(self) -> LinkPrincipal:
        assert isinstance(self.principal, LinkPrincipal)
        return self.principal

    @property
    def actor(self) -> Actor:
        return actor_of(self.request, self.principal)

    async def booking_changed(self, booking_id: uuid.UUID) -> None:
        """Tell the rooms a booking changed; call after its transaction committed."""
        await self.request.app[EVENTS].publish(BookingChanged(booking_id))


def actor_of(request: web.Request, principal: Principal) -> Actor:
    """The audit actor behind a request."""
    source = request.remote or ""
    agent = request.headers.get("User-Agent", "")
    if isinstance(principal, StaffPrincipal):
        return Actor("staff", str(principal.user_id), principal.role.value, source, agent)
    if principal is not None:
        return Actor("client", str(principal.token_id), principal.role.value, source, agent)
    return Actor("anonymous", "", "", source, agent)


Handler = Callable[[Call[Any, Any]], Awaitable[Any]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    audience: Audience
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: Any = None  # a model, list[model], or None for 204
    status: int = 200
    tag: str = ""
    raw_response: str | None = None  # media type of a non-JSON answer (e.g. text/calendar)
    errors: tuple[int, ...] = ()

    @property
    def id_params(self) -> list[str]:
        return _PATH_PARAM.findall(self.path)


@dataclass
class Api:
    """The registry of JSON endpoints; each package adds its own before the app starts."""

    endpoints: list[Endpoint] = field(default_factory=list)

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        audience: Audience,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: Any = None,
        status: int = 200,
        tag: str = "",
        raw_response: str | None = None,
        errors: tuple[int, ...] = (),
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.endpoints.append(
                Endpoint(
                    method,
                    path,
                    handler,
                    summary,
                    audience,
                    body,
                    query,
                    response,
                    status,
                    tag,
                    raw_response,
                    errors,
                )
            )
            return handler

        return register

    def install(self, app: web.Application) -> None:
        for endpoint in self.endpoints:
            app.router.add_route(endpoint.method, endpoint.path, _wrap(endpoint))


def _parse_ids(endpoint: Endpoint, request: web.Request) -> dict[str, uuid.UUID]:
    ids = {}
    for name in endpoint.id_params:
        raw = request.match_info[name]
        try:
            ids[name] = uuid.UUID(raw)
        except ValueError:
            raise NotFound(f"{name} {raw!r} is not a valid id.") from None
    return ids


def _validation_message(error: ValidationError, where: str) -> InvalidInput:
    problems = [
        f"{where}.{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
        if item["loc"]
        else f"{where}: {item['msg']}"
        for item in error.errors()
    ]
    return InvalidInput("; ".join(problems), problems=problems)


async def _parse_body(endpoint: Endpoint, request: web.Request) -> BaseModel | None:
    if endpoint.body is None:
        return None
    if request.content_type != "application/json":
        raise UnsupportedMediaType("Send the request body as application/json.")
    try:
        data = json.loads(await request.read() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InvalidInput(f"The body is not valid JSON: {error}") from None
    _check_text(data, "body")
    try:
        return endpoint.body.model_validate(data)
    except ValidationError as error:
        raise _validation_message(error, "body") from None


def _check_text(value: Any, where: str) -> None:
    """Refuse text no database stores: NUL characters, and lone surrogates (JSON can escape
    them as \\ud800), which are not Unicode."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidInput(f"The {where} holds a NUL character, which text may not contain.")
        try:
            value.encode()
        except UnicodeEncodeError:
            raise InvalidInput(f"The {where} holds text that is not valid Unicode.") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, where)
            _check_text(item, where)
    elif isinstance(value, list):
        for item in value:
            _check_text(item, where)


def _parse_query(endpoint: Endpoint, request: web.Request) -> BaseModel | None:
    if endpoint.query is None:
        return None
    _check_text(dict(request.query), "query")
    try:
        return endpoint.query.model_validate(dict(request.query))
    except ValidationError as error:
        raise _validation_message(error, "query") from None


def _check_csrf(request: web.Request, principal: Principal) -> None:
    """Cookie-authenticated changes must echo the session's CSRF token in a header."""
    if request.method in _UNSAFE_METHODS and isinstance(principal, StaffPrincipal):
        sent = request.headers.get("X-CSRF-Token", "")
        if not sent or sent != principal.csrf_token:
            raise Forbidden("Missing or wrong X-CSRF-Token header; reload the page and retry.")


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


def _dumps(data: Any) -> str:
    return json.dumps(data, default=str, ensure_ascii=False)


def _serialize(result: Any) -> Any:
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    if isinstance(result, list):
        return [_serialize(item) for item in result]
    return result


def _wrap(endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        ids = _parse_ids(endpoint, request)
        principal: Principal = None
        if endpoint.audience is not Audience.ANYONE:
            principal = await request.app[AUTHENTICATOR].principal(request)
            admit(endpoint.audience, principal)
        _check_csrf(request, principal)
        call: Call[Any, Any] = Call(
            request=request,
            principal=principal,
            body=await _parse_body(endpoint, request),
            query=_parse_query(endpoint, request),
            ids=ids,
        )
        result = await endpoint.handler(call)
        if isinstance(result, web.StreamResponse):
            return result
        if endpoint.response is None and result is None:
            return web.Response(status=204 if endpoint.status == 200 else endpoint.status)
        return json_response(_serialize(result), status=endpoint.status)

    handle.__name__ = endpoint.handler.__name__
    return handle
