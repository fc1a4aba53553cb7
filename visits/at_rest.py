"""Encrypting finished recording files, and finding the ones not yet encrypted.

The recorder always writes plain files (a crash must leave something `recover_recording` can
repair); they are encrypted once final: after each visit, after recovery, and at start-up for
any a crash left plain between finalizing and encrypting.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path

from sqlalchemy import select

from visits.crypto import encrypt_file
from visits.db import Database
from visits.models import Recording, RecordingStatus

logger = logging.getLogger(__name__)


def _encrypt(data_dir: Path, relative: str, key: bytes) -> bool:
    root = data_dir.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return False
    return encrypt_file(path, key)


async def encrypt_recordings(
    db: Database, data_dir: Path, key: bytes | None, booking_id: uuid.UUID | None = None
) -> int:
    """Encrypt every finished recording file (of one visit, or all) still in plain; returns
    how many were encrypted. Without a key it does nothing."""
    if key is None:
        return 0
    query = select(Recording.path).where(
        Recording.status.in_([RecordingStatus.FINALIZED, RecordingStatus.INTERRUPTED])
    )
    if booking_id is not None:
        query = query.where(Recording.booking_id == booking_id)
    async with db.transaction() as session:
        paths = list(await session.scalars(query))
    encrypted = 0
    for relative in paths:
        if await asyncio.to_thread(_encrypt, data_dir, relative, key):
            encrypted += 1
    if encrypted:
        logger.info("encrypted %d recording files", encrypted)
    return encrypted
