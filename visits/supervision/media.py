"""Serving a recording's file for playback: where it is, what it is, which bytes a request
wants (HTTP ranges), and which requests start a playback (those are audited; the range requests
a player makes while seeking are not).

We stream the bytes ourselves rather than with aiohttp's FileResponse (whose range handling
this follows) because a file encrypted at rest must be served as its plaintext.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from aiohttp import web

from visits import crypto
from visits.errors import NotFound
from visits.models import Recording
from visits.settings import Settings

STREAM_CHUNK = 256 * 1024

_MEDIA_TYPES = {
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".oga": "audio/ogg",
    ".wav": "audio/wav",
    ".mp4": "video/mp4",
    ".m4a": "audio/mp4",
    ".webm": "video/webm",
    ".mkv": "video/x-matroska",
}


def media_type(recording: Recording) -> str:
    kind = _MEDIA_TYPES.get(Path(recording.path).suffix.lower(), "application/octet-stream")
    if recording.kind == "audio" and kind == "video/webm":
        return "audio/webm"
    return kind


def plain_size(file: BinaryIO) -> int:
    """Length of the plaintext (of an encrypted file too: its reader seeks in plaintext)."""
    size = file.seek(0, io.SEEK_END)
    file.seek(0)
    return size


def recording_file(data_dir: Path, recording: Recording) -> Path:
    """The recording's file, which must lie inside the data directory."""
    root = data_dir.resolve()
    path = (root / recording.path).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFound("The file of this recording is missing from the data directory.")
    return path


@dataclass(frozen=True)
class RangeCheck:
    satisfiable: bool
    starts_playback: bool  # no Range, or one from the first byte: a player starting over
    start: int = 0
    end: int = 0  # exclusive
    partial: bool = False  # answer 206 with Content-Range


def check_range(request: web.Request, size: int) -> RangeCheck:
    """Which bytes a request wants, with the rules aiohttp's FileResponse applies.

    Judged before anything is sent, so a 416 carries a JSON body like every other error, and
    so only the request that starts a playback is audited.
    """
    if "Range" not in request.headers:
        return RangeCheck(True, True, 0, size)
    try:
        wanted = request.http_range  # one range only; multipart ranges are refused
    except ValueError:
        return RangeCheck(False, False)
    start = wanted.start
    if start is None or start < 0:  # a suffix: the last n bytes
        suffix = -(start or 0)
        if suffix <= 0 or size == 0:
            return RangeCheck(False, False)
        return RangeCheck(True, suffix >= size, max(0, size - suffix), size, partial=True)
    if start >= size:
        return RangeCheck(False, False)
    end = size if wanted.stop is None else min(wanted.stop, size)
    return RangeCheck(True, start == 0, start, end, partial=True)


def open_plain(path: Path, settings: Settings) -> BinaryIO:
    """A recording's plaintext, seekable: files encrypted at rest are decrypted on the fly."""
    return crypto.open_plain(path, settings.recording_key_bytes)


def _read(file: BinaryIO, position: int, count: int) -> bytes:
    file.seek(position)
    return file.read(count)


async def stream(
    request: web.Request, file: BinaryIO, check: RangeCheck, size: int, headers: dict[str, str]
) -> web.StreamResponse:
    """Send the wanted bytes of `file` in chunks read off the event loop; closes `file`."""
    try:
        response = web.StreamResponse(status=206 if check.partial else 200, headers=headers)
        response.headers["Accept-Ranges"] = "bytes"
        # Prepared here, so the headers every answer carries go on now (visits.web.errors).
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        if check.partial:
            response.headers["Content-Range"] = f"bytes {check.start}-{check.end - 1}/{size}"
        response.content_length = check.end - check.start
        await response.prepare(request)
        position = check.start
        while position < check.end:
            count = min(STREAM_CHUNK, check.end - position)
            chunk = await asyncio.to_thread(_read, file, position, count)
            if not chunk:
                break
            await response.write(chunk)
            position += len(chunk)
        await response.write_eof()
        return response
    finally:
        file.close()
