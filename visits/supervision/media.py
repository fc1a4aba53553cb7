"""Serving a recording's file for playback: where it is, what it is, and which requests start
a playback (those are audited; the range requests a player makes while seeking are not)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from visits.errors import NotFound
from visits.models import Recording

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


def check_range(request: web.Request, size: int) -> RangeCheck:
    """Judge the Range header the way aiohttp's FileResponse will serve it.

    aiohttp answers an unparsable range or one starting past the end with 416; we decide that
    first so the 416 carries a JSON body like every other error, and so only the request that
    starts a playback is audited.
    """
    if "Range" not in request.headers:
        return RangeCheck(satisfiable=True, starts_playback=True)
    try:
        wanted = request.http_range
    except ValueError:
        return RangeCheck(satisfiable=False, starts_playback=False)
    start = wanted.start
    if start is None or start < 0:  # a suffix: the last n bytes
        suffix = -(start or 0)
        return RangeCheck(satisfiable=suffix > 0 and size > 0, starts_playback=suffix >= size)
    return RangeCheck(satisfiable=start < size, starts_playback=start == 0)
