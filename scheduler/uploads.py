"""Client uploads: checked by content, limited in size, written atomically under data_dir.

The type comes from the file's first bytes (PDF, JPEG, PNG, HEIC), never from its name or
the browser's claim. The body is streamed to a temporary file in the uploads directory and
renamed to its generated name only when complete; any failure removes the temporary file, so
nothing is stored for bad input.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from aiohttp import web

from visits.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType

CHUNK = 64 * 1024
UPLOADS = "uploads"
ACCEPTED = "PDF, JPEG, PNG or HEIC (iPhone photo)"
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


@dataclass(frozen=True)
class Kind:
    media_type: str
    extension: str


def sniff(head: bytes) -> Kind | None:
    """The kind of file whose first bytes are `head` (at least 12), or None if not accepted."""
    if head.startswith(b"%PDF-"):
        return Kind("application/pdf", "pdf")
    if head.startswith(b"\xff\xd8\xff"):
        return Kind("image/jpeg", "jpg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Kind("image/png", "png")
    if head[4:8] == b"ftyp" and head[8:12] in _HEIC_BRANDS:
        return Kind("image/heic", "heic")
    return None


@dataclass(frozen=True)
class Stored:
    path: str  # relative to the data directory
    kind: Kind
    size: int
    sha256: str


def _open(path: Path) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("xb")


def _finish(handle: BinaryIO, temporary: Path, final: Path) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(temporary, final)


def _discard(handle: BinaryIO, temporary: Path) -> None:
    handle.close()
    temporary.unlink(missing_ok=True)


async def receive(
    request: web.Request, data_dir: Path, folder: str, name: uuid.UUID, max_bytes: int
) -> Stored:
    """Stream the request body into data_dir/uploads/folder/name.ext, or raise and keep nothing."""
    declared = request.content_length
    if declared is not None and declared > max_bytes:
        raise PayloadTooLarge(f"The file is larger than {max_bytes // (1024 * 1024)} MB.")
    root = data_dir / UPLOADS
    temporary = root / f".incoming-{uuid.uuid4().hex}"
    handle = await asyncio.to_thread(_open, temporary)
    digest = hashlib.sha256()
    size = 0
    head = b""
    kind: Kind | None = None
    try:
        async for chunk in request.content.iter_chunked(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise PayloadTooLarge(f"The file is larger than {max_bytes // (1024 * 1024)} MB.")
            if kind is None:
                head += chunk[:16]
                if len(head) >= 12:
                    kind = sniff(head)
                    if kind is None:
                        raise UnsupportedMediaType(f"Only {ACCEPTED} files can be sent.")
            digest.update(chunk)
            await asyncio.to_thread(handle.write, chunk)
        if size == 0:
            raise InvalidInput("The file is empty.")
        if kind is None:
            raise UnsupportedMediaType(f"Only {ACCEPTED} files can be sent.")
        relative = Path(UPLOADS) / folder / f"{name}.{kind.extension}"
        await asyncio.to_thread(_finish, handle, temporary, data_dir / relative)
    except BaseException:
        await asyncio.to_thread(_discard, handle, temporary)
        raise
    return Stored(relative.as_posix(), kind, size, digest.hexdigest())


def remove(data_dir: Path, relative: str) -> None:
    (data_dir / relative).unlink(missing_ok=True)
