"""Answering with a recording's file, encrypted at rest or not, with HTTP range support.

A plain file goes out through aiohttp's FileResponse. An encrypted one is decrypted on the fly
(visits.crypto's chunks allow seeking), answering `Range: bytes=a-b` with 206 like a plain
file, so a browser's player can seek in a recording that is never stored in plain.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from visits.crypto import EncryptedReader, EncryptionError, is_encrypted

_PIECE = 256 * 1024


class RangeNotSatisfiable(web.HTTPRequestRangeNotSatisfiable):
    pass


def _wanted(request: web.Request, size: int) -> tuple[int, int] | None:
    """(start, stop) of the one range asked for, None for the whole file; 416 if unusable."""
    if "Range" not in request.headers:
        return None
    try:
        wanted = request.http_range
    except ValueError:
        raise RangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"}) from None
    start, stop = wanted.start, wanted.stop
    if start is None and stop is None:
        return None
    if start is not None and start < 0:  # a suffix: the last n bytes
        start, stop = max(0, size + start), size
    start = start or 0
    stop = size if stop is None else min(stop, size)
    if start >= size or start >= stop:
        raise RangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
    return start, stop


async def media_response(
    request: web.Request,
    path: Path,
    key: bytes | None,
    content_type: str,
    headers: dict[str, str] | None = None,
) -> web.StreamResponse:
    """The file at `path` as `content_type`; raises visits.crypto.EncryptionError when it is
    encrypted and `key` cannot read it."""
    extra = dict(headers or {})
    if not await asyncio.to_thread(is_encrypted, path):
        return web.FileResponse(path, headers={"Content-Type": content_type, **extra})
    if key is None:
        raise EncryptionError(f"{path} is encrypted and no recording key is set")
    reader = await asyncio.to_thread(EncryptedReader, path, key)
    try:
        span = _wanted(request, reader.size)
        start, stop = span or (0, reader.size)
        response = web.StreamResponse(
            status=206 if span else 200,
            headers={
                "Content-Type": content_type,
                "Accept-Ranges": "bytes",
                **({"Content-Range": f"bytes {start}-{stop - 1}/{reader.size}"} if span else {}),
                **extra,
            },
        )
        response.content_length = stop - start
        await response.prepare(request)
        reader.seek(start)
        left = stop - start
        while left > 0:
            piece = await asyncio.to_thread(reader.read, min(_PIECE, left))
            if not piece:
                break
            await response.write(piece)
            left -= len(piece)
        await response.write_eof()
        return response
    finally:
        reader.close()
