"""The one place where errors become HTTP answers: always JSON, always naming the problem."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from visits.errors import TooManyAttempts, VisitsError

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_body(
    code: str, message: str, details: dict[str, object] | None = None
) -> dict[str, object]:
    body: dict[str, object] = {"error": code, "message": message}
    if details:
        body["details"] = details
    return body


def _json_error(status: int, code: str, message: str, **details: object) -> web.Response:
    return web.json_response(error_body(code, message, details), status=status)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure into a JSON answer with the right status."""
    try:
        return await handler(request)
    except VisitsError as error:
        response = _json_error(error.status, error.code, error.message, **error.details)
        if isinstance(error, TooManyAttempts):
            response.headers["Retry-After"] = str(error.retry_after)
        return response
    except web.HTTPException as error:
        if error.status < 400 or error.content_type == "application/json":
            raise
        message = {
            404: f"Nothing at {request.path}.",
            405: f"{request.method} is not allowed on {request.path}.",
            413: "The request body is too large.",
        }.get(error.status, error.reason)
        response = _json_error(error.status, error.reason.lower().replace(" ", "_"), message)
        if error.status == 405 and "Allow" in error.headers:
            response.headers["Allow"] = error.headers["Allow"]
        return response
    except Exception:
        logger.exception("unexpected error on %s %s", request.method, request.path)
        return _json_error(
            500, "internal_error", "Something went wrong on our side; it was logged."
        )


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Headers every answer carries: no framing, no sniffing, no leaking links as referrers."""
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    # Join links carry secrets in the path: never send them on as a Referer.
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if request.path.startswith("/api/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response
