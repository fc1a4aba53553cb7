"""All live visits of this process, and what happens after each one ends."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from pathlib import Path

from signaling.ice import IceConfig, IceServer
from signaling.playback import build_playback
from signaling.recording import (
    RecordingManifest,
    VideoRecordingOptions,
    VisitRecorder,
    media_duration,
)
from signaling.session import VisitContext, VisitSession
from visits.at_rest import encrypt_recordings
from visits.db import Database
from visits.events import Events, VisitRecorded
from visits.models import Recording, RecordingStatus
from visits.settings import Settings

logger = logging.getLogger(__name__)

NOTICE_VERSION = "2026-11"  # bump when the recording notice text changes


def recordings_dir(data_dir: Path, booking_id: uuid.UUID) -> Path:
    return data_dir / "recordings" / str(booking_id)


def ice_config(settings: Settings) -> IceConfig:
    """The ICE host addresses and STUN/TURN servers the settings give, for server and browser."""
    servers = tuple(
        IceServer(
            urls=(url,),
            username=settings.turn_username or None if url.startswith("turn") else None,
            credential=settings.turn_password or None if url.startswith("turn") else None,
        )
        for url in settings.ice_servers
    )
    return IceConfig(tuple(settings.ice_host_addresses), servers).validated()


class LiveVisits:
    """Owns every VisitSession and the work that follows a visit; closed at shutdown."""

    def __init__(self, settings: Settings, db: Database, events: Events) -> None:
        self.settings = settings
        self.db = db
        self.events = events
        self.sessions: dict[uuid.UUID, VisitSession] = {}
        self._background: set[asyncio.Task[None]] = set()
        video = VideoRecordingOptions(
            fps=settings.recording_video_fps,
            width=settings.recording_video_width,
            height=settings.recording_video_height,
        )
        self.context = VisitContext(
            db=db,
            ice=ice_config(settings),
            notice_version=NOTICE_VERSION,
            data_dir=settings.data_dir,
            make_recorder=lambda booking_id: VisitRecorder(
                recordings_dir(settings.data_dir, booking_id), video, paused=True
            ),
            empty_grace_seconds=settings.visit_empty_grace_seconds,
            after_visit=self._after_visit,
        )

    def session(self, booking_id: uuid.UUID) -> VisitSession:
        """The live session of a booking, started on first use."""
        session = self.sessions.get(booking_id)
        if session is None or session.ended.is_set():
            session = VisitSession(booking_id, self.context)
            self.sessions[booking_id] = session
        return session

    async def _after_visit(self, booking_id: uuid.UUID, manifest: RecordingManifest | None) -> None:
        self.sessions.pop(booking_id, None)
        if manifest is not None and manifest.tracks:
            await self._encrypt(booking_id)
            await self.events.publish(VisitRecorded(booking_id))
            task = asyncio.ensure_future(self._playback(booking_id, manifest))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _encrypt(self, booking_id: uuid.UUID) -> None:
        """Encrypt the visit's finished files at rest, when a recording key is set."""
        try:
            await encrypt_recordings(
                self.db, self.settings.data_dir, self.settings.recording_key_bytes, booking_id
            )
        except Exception:  # start-up encrypts whatever is left in plain
            logger.exception("could not encrypt the recordings of visit %s", booking_id)

    async def _playback(self, booking_id: uuid.UUID, manifest: RecordingManifest) -> None:
        """Mix the visit into one file for supervisors to watch (off the event loop)."""
        directory = recordings_dir(self.settings.data_dir, booking_id)
        out = directory / "playback.mp4"
        key = self.settings.recording_key_bytes
        try:
            await asyncio.to_thread(build_playback, manifest, directory, out, key=key)
            duration = await asyncio.to_thread(media_duration, out)
            digest = await asyncio.to_thread(_sha256, out)
        except Exception:
            logger.exception("could not build the playback file of visit %s", booking_id)
            return
        async with self.db.transaction() as session:
            session.add(
                Recording(
                    booking_id=booking_id,
                    kind="playback",
                    path=str(out.relative_to(self.settings.data_dir)),
                    duration_seconds=duration,
                    sha256=digest,
                    status=RecordingStatus.FINALIZED,
                )
            )
        await self._encrypt(booking_id)

    async def close(self) -> None:
        """End every visit (server shutdown) and finish the work that follows them."""
        await asyncio.gather(
            *(
                asyncio.shield(session.end("server_shutdown"))
                for session in list(self.sessions.values())
            ),
            return_exceptions=True,
        )
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
