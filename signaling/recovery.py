"""After a crash: finish the recordings of visits that were live when the server died."""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path

from signaling import records
from signaling.recording import recover_recording
from visits.db import Database, utcnow
from visits.models import Booking, BookingStatus, RecordingOutcome

logger = logging.getLogger(__name__)


async def recover_interrupted_visits(db: Database, data_dir: Path) -> list[uuid.UUID]:
    """Finalize, fingerprint and record every recording left without a manifest."""
    root = data_dir / "recordings"
    if not root.is_dir():
        return []
    recovered = []
    for directory in sorted(root.iterdir()):
        if not directory.is_dir() or (directory / "manifest.json").exists():
            continue
        try:
            booking_id = uuid.UUID(directory.name)
        except ValueError:
            continue
        manifest = await asyncio.to_thread(recover_recording, directory)
        async with db.transaction() as session:
            booking = await session.get(Booking, booking_id)
            if booking is None:
                logger.warning("recordings at %s belong to no booking", directory)
                continue
            records.add_recordings(session, booking, manifest, directory, data_dir, {})
            booking.recording_status = RecordingOutcome.INTERRUPTED
            booking.recording_note = (
                "The server stopped during the visit; the recording was recovered up to "
                "that moment."
            )
            if booking.status is BookingStatus.IN_PROGRESS:
                booking.status = BookingStatus.COMPLETED
                booking.ended_at = booking.ended_at or utcnow()
        logger.warning("recovered the interrupted recording of visit %s", booking_id)
        recovered.append(booking_id)
    return recovered
