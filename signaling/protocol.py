"""The signaling messages a visit's WebSocket carries, validated on the way in.

docs/signaling.md describes the same schema for people writing clients.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError


class Incoming(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Hello(Incoming):
    """First message: who is joining. Links send their token; staff (cookie) name the booking."""

    type: Literal["hello"]
    token: Annotated[str, Field(min_length=20, max_length=200)] | None = None
    booking_id: uuid.UUID | None = None
    language: Annotated[str, Field(max_length=16)] | None = None


class ConsentAnswer(Incoming):
    type: Literal["consent"]
    choice: Literal["accepted", "declined"]
    notice_version: Annotated[str, Field(min_length=1, max_length=32)]
    language: Annotated[str, Field(min_length=2, max_length=16)]


class Admit(Incoming):
    type: Literal["admit"]
    participant_id: Annotated[str, Field(min_length=1, max_length=64)]


class Offer(Incoming):
    type: Literal["offer"]
    sdp: Annotated[str, Field(min_length=10, max_length=100_000)]


class MediaState(Incoming):
    """A participant muted or unmuted their microphone or camera."""

    type: Literal["media"]
    audio: bool
    video: bool


class Leave(Incoming):
    type: Literal["leave"]


class End(Incoming):
    """Staff only: end the visit for everyone."""

    type: Literal["end"]


class Ping(Incoming):
    type: Literal["ping"]


Message = Annotated[
    Hello | ConsentAnswer | Admit | Offer | MediaState | Leave | End | Ping,
    Field(discriminator="type"),
]
_MESSAGE: TypeAdapter[Any] = TypeAdapter(Message)
MAX_MESSAGE_BYTES = 128 * 1024


class ProtocolError(Exception):
    """A message the server cannot act on; answered with an `error` message, never fatal."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse(raw: str) -> Incoming:
    """One validated incoming message, or ProtocolError naming what is wrong with it."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise ProtocolError("too_large", f"Messages may be at most {MAX_MESSAGE_BYTES} bytes.")
    try:
        return _MESSAGE.validate_json(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "message"
        if first["type"] == "json_invalid":
            raise ProtocolError("invalid_json", "The message is not valid JSON.") from None
        if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
            raise ProtocolError(
                "unknown_type",
                "The message needs a known 'type': hello, consent, admit, offer, media, "
                "leave, end or ping.",
            ) from None
        raise ProtocolError("invalid_message", f"{where}: {first['msg']}") from None


def error(code: str, message: str, in_reply_to: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if in_reply_to:
        body["in_reply_to"] = in_reply_to
    return body
