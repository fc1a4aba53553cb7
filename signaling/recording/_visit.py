"""The per-visit owner of all track recorders, and the one place a recording is closed."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from aiortc.mediastreams import MediaStreamTrack

from ._manifest import (
    MANIFEST_NAME,
    RecordingManifest,
    build_manifest,
    check_participant_id,
    write_json_atomic,
)
from ._track import TrackRecorder
from ._writers import VideoRecordingOptions

logger = logging.getLogger(__name__)


class VisitRecorder:
    """Records every participant's tracks of one visit into `directory`.

    Consent gating: while paused (some present participant has not consented) audio is written
    as silence and video is dropped, for every track including those added while paused.
    `close()` may be called from every path that ends a visit, concurrently: the first call
    finalizes, every call returns the same manifest.
    """

    def __init__(
        self, directory: Path, video: VideoRecordingOptions | None = None, *, paused: bool = False
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._directory = directory
        self._video = video or VideoRecordingOptions()
        self._paused = paused
        self._recorders: list[TrackRecorder] = []
        self._closing: asyncio.Future[RecordingManifest] | None = None

    @property
    def directory(self) -> Path:
        return self._directory

    @property
    def paused(self) -> bool:
        return self._paused

    def add_track(self, participant_id: str, role: str, track: MediaStreamTrack) -> None:
        """Start recording `track` (the recorder now owns it: it reads it and stops it).

        Pass a `MediaRelay.subscribe(track)` proxy when the same track is also relayed. A track
        arriving after close() has begun is stopped unrecorded (a hang-up racing a late track).
        """
        check_participant_id(participant_id)
        if self._closing is not None:
            logger.warning("track of %s arrived after the recording closed", participant_id)
            track.stop()
            return
        record = track.kind == "audio" or self._video.enabled
        stem = f"{len(self._recorders):03d}-{participant_id}-{track.kind}"
        recorder = TrackRecorder(
            track,
            directory=self._directory,
            stem=stem,
            participant_id=participant_id,
            role=role,
            video=self._video,
            paused=self._paused,
            record=record,
        )
        self._recorders.append(recorder)
        recorder.start()

    def pause(self) -> None:
        """Stop capturing content (consent missing); the timeline keeps running."""
        self._paused = True
        for recorder in self._recorders:
            recorder.pause()

    def resume(self) -> None:
        self._paused = False
        for recorder in self._recorders:
            recorder.resume()

    async def close(self) -> RecordingManifest:
        """Stop every track, finalize every file, write and return the manifest. Idempotent."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close())
        # shield: a caller being cancelled (e.g. its websocket handler) must not abort the close.
        return await asyncio.shield(self._closing)

    async def _close(self) -> RecordingManifest:
        ended_at = time.time()
        results = await asyncio.gather(
            *(recorder.stop(ended_at) for recorder in self._recorders), return_exceptions=True
        )
        sidecars = []
        for result in results:
            if isinstance(result, BaseException):
                logger.error("a track recording failed: %r", result)
            elif result is not None:
                sidecars.append(result)
        manifest = build_manifest(sidecars, interrupted=False, ended_at=ended_at)
        await asyncio.to_thread(
            write_json_atomic, self._directory / MANIFEST_NAME, manifest.to_json()
        )
        logger.info("recording closed: %d tracks in %s", len(manifest.tracks), self._directory)
        return manifest
