"""Errors a user can cause; each maps to one HTTP status in one place (visits.web.errors)."""

from __future__ import annotations

from typing import Any


class VisitsError(Exception):
    """Base of the errors users can cause; `code` is stable, `message` says what went wrong."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(VisitsError):
    status = 400
    code = "invalid_input"


class NotSignedIn(VisitsError):
    status = 401
    code = "not_signed_in"


class Forbidden(VisitsError):
    status = 403
    code = "forbidden"


class NotFound(VisitsError):
    status = 404
    code = "not_found"


class Conflict(VisitsError):
    status = 409
    code = "conflict"


class Gone(VisitsError):
    status = 410
    code = "gone"


class PayloadTooLarge(VisitsError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(VisitsError):
    status = 415
    code = "unsupported_media_type"


class TooManyAttempts(VisitsError):
    status = 429
    code = "too_many_attempts"

    def __init__(self, message: str, retry_after: int, **details: Any) -> None:
        super().__init__(message, retry_after=retry_after, **details)
        self.retry_after = retry_after
