"""One received track in, one crash-safe file out; the event loop never waits for the encoder.

The consumer task reads every frame (an unread aiortc track, or MediaRelay proxy, queues frames
without bound) and only timestamps, filters and enqueues them; a worker thread owned by the
recorder does the encoding, the file I/O and the sidecar writes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from ._manifest import (
    SIDECAR_SUFFIX,
    Kind,
    PausedInterval,
    TrackSidecar,
    sha256_file,
    write_json_atomic,
)
from ._timeline import AudioTimeline, VideoTimeline
from ._writers import (
    AUDIO_CODEC,
    AUDIO_RATE,
    AUDIO_SUFFIX,
    OpusFileWriter,
    VideoFileWriter,
    VideoRecordingOptions,
)

logger = logging.getLogger(__name__)

# Audio is never dropped for being slow; only a worker stuck for this long (50 frames/s) sheds
# it, and the timeline then fills the hole with silence so the file stays aligned.
_AUDIO_BACKLOG_LIMIT = 50 * 60


@dataclass(frozen=True, slots=True)
class _Start:
    started_at: float
    paused: bool


@dataclass(frozen=True, slots=True)
class _Audio:
    frame: av.AudioFrame
    pts: float
    arrival: float
    silent: bool


@dataclass(frozen=True, slots=True)
class _Video:
    frame: av.VideoFrame
    at: float


@dataclass(frozen=True, slots=True)
class _Pause:
    at: float


@dataclass(frozen=True, slots=True)
class _Resume:
    at: float


@dataclass(frozen=True, slots=True)
class _Finish:
    at: float
    frames_dropped: int


_Item = _Start | _Audio | _Video | _Pause | _Resume | _Finish


def _pts_seconds(frame: av.AudioFrame | av.VideoFrame) -> float | None:
    if frame.pts is None or frame.time_base is None:
        return None
    # Fraction() of the parts: PyAV >= 19 returns its own rational type (aiortc mediastreams.py).
    return float(frame.pts * Fraction(frame.time_base.numerator, frame.time_base.denominator))


class TrackRecorder:
    """Records one track to `<stem><ext>` with its sidecar `<stem>.track.json`.

    Takes ownership of `track`: it reads it until the track ends or `stop()` is called, then
    stops it (for a MediaRelay proxy that unsubscribes it). With `record=False` the track is only
    drained, which is how unrecorded video is still read.
    """

    def __init__(
        self,
        track: MediaStreamTrack,
        *,
        directory: Path,
        stem: str,
        participant_id: str,
        role: str,
        video: VideoRecordingOptions,
        paused: bool,
        record: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if track.kind not in ("audio", "video"):
            raise ValueError(f"cannot record a {track.kind!r} track")
        self.kind: Kind = "audio" if track.kind == "audio" else "video"
        self._track = track
        self._directory = directory
        self._stem = stem
        self._participant_id = participant_id
        self._role = role
        self._video = video
        self._paused = paused
        self._record = record
        self._clock = clock
        self._queue: queue.Queue[_Item] = queue.Queue()
        self._video_timeline = VideoTimeline(video.fps)
        self._started_at: float | None = None
        self._finished = False
        self._frames_dropped = 0
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._result: concurrent.futures.Future[TrackSidecar] = concurrent.futures.Future()

    # -- event loop side ---------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._consume(), name=f"record-{self._stem}")

    def pause(self) -> None:
        if not self._paused:
            self._paused = True
            if self._started_at is not None and not self._finished:
                self._queue.put(_Pause(self._clock()))

    def resume(self) -> None:
        if self._paused:
            self._paused = False
            if self._started_at is not None and not self._finished:
                self._queue.put(_Resume(self._clock()))

    async def stop(self, at: float) -> TrackSidecar | None:
        """Stop reading, finalize the file as of wall-clock `at`; None if nothing was recorded."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.wait([self._task])
        self._end(at)
        if self._thread is None:
            return None
        return await asyncio.wrap_future(self._result)

    async def _consume(self) -> None:
        try:
            while True:
                frame = await self._track.recv()
                if self._record:
                    self._on_frame(frame, self._clock())
        except MediaStreamError:
            logger.info("%s: track ended", self._stem)
            self._end(self._clock())
        except Exception:
            logger.exception("%s: consuming the track failed", self._stem)
            self._end(self._clock())

    def _on_frame(self, frame: av.AudioFrame | av.VideoFrame, now: float) -> None:
        if self._finished:
            return
        if self._started_at is None:
            self._started_at = now
            self._thread = threading.Thread(
                target=self._run, name=f"record-{self._stem}", daemon=True
            )
            self._thread.start()
            self._queue.put(_Start(now, self._paused))
        arrival = now - self._started_at
        pts = _pts_seconds(frame)
        if pts is None:
            pts = arrival  # a source without timestamps: the wall clock is all we have
        if isinstance(frame, av.AudioFrame):
            if self._queue.qsize() > _AUDIO_BACKLOG_LIMIT:
                self._frames_dropped += 1
                if self._frames_dropped % 50 == 1:
                    logger.error("%s: audio encoder stalled, dropping audio", self._stem)
                return
            self._queue.put(_Audio(frame, pts, arrival, self._paused))
            return
        if self._paused:
            return  # no consent: the picture never reaches the disk
        at = self._video_timeline.place(pts, arrival)
        if at is None:
            return
        if self._queue.qsize() >= self._video.max_queued_frames:
            self._frames_dropped += 1
            return
        self._queue.put(_Video(frame, at))

    def _end(self, at: float) -> None:
        if self._finished:
            return
        self._finished = True
        self._track.stop()
        if self._started_at is not None:
            self._queue.put(_Finish(at, self._frames_dropped))

    # -- worker thread side --------------------------------------------------------------------

    def _run(self) -> None:
        worker = _Worker(
            self._queue,
            directory=self._directory,
            stem=self._stem,
            kind=self.kind,
            participant_id=self._participant_id,
            role=self._role,
            video=self._video,
        )
        try:
            self._result.set_result(worker.run())
        except BaseException as exc:
            logger.exception("%s: recording worker failed", self._stem)
            self._result.set_exception(exc)


class _Worker:
    """State only the worker thread touches: the writer, the audio timeline, the sidecar."""

    def __init__(
        self,
        items: queue.Queue[_Item],
        *,
        directory: Path,
        stem: str,
        kind: Kind,
        participant_id: str,
        role: str,
        video: VideoRecordingOptions,
    ) -> None:
        self._queue = items
        self._kind = kind
        self._directory = directory
        self._participant_id = participant_id
        self._role = role
        self._video_options = video
        self._file = stem + (AUDIO_SUFFIX if kind == "audio" else video.suffix)
        self._sidecar_path = directory / (stem + SIDECAR_SUFFIX)
        self._audio_timeline = AudioTimeline(AUDIO_RATE)
        self._audio: OpusFileWriter | None = None
        self._video: VideoFileWriter | None = None
        self._sidecar: TrackSidecar | None = None

    def run(self) -> TrackSidecar:
        while True:
            item = self._queue.get()
            if isinstance(item, _Finish):
                return self._finish(item)
            if self._sidecar is not None and self._sidecar.error is not None:
                continue  # keep draining so the loop side never backs up
            try:
                self._handle(item)
            except Exception as exc:
                logger.exception("%s: recording failed", self._file)
                self._fail(exc)

    def _handle(self, item: _Item) -> None:
        match item:
            case _Start(started_at=started_at, paused=paused):
                path = self._directory / self._file
                if self._kind == "audio":
                    self._audio = OpusFileWriter(path)
                    codec = AUDIO_CODEC
                else:
                    self._video = VideoFileWriter(path, self._video_options)
                    codec = self._video_options.codec
                self._sidecar = TrackSidecar(
                    participant_id=self._participant_id,
                    role=self._role,
                    kind=self._kind,
                    codec=codec,
                    file=self._file,
                    started_at=started_at,
                    paused=[PausedInterval(0.0, None)] if paused else [],
                )
                self._write_sidecar()
            case _Audio(frame=frame, pts=pts, arrival=arrival, silent=silent):
                assert self._audio is not None
                samples = self._audio.to_output_rate(frame)
                placement = self._audio_timeline.place(pts, len(samples), arrival)
                self._audio.write_silence(placement.silence_before)
                samples = samples[placement.drop_leading :]
                if silent:
                    self._audio.write_silence(len(samples))
                else:
                    self._audio.write(samples)
            case _Video(frame=frame, at=at):
                assert self._video is not None
                self._video.write(frame, at)
            case _Pause(at=at):
                assert self._sidecar is not None
                self._sidecar.paused.append(PausedInterval(self._file_time(at), None))
                self._write_sidecar()
            case _Resume(at=at):
                assert self._sidecar is not None
                self._close_pause(self._file_time(at))
                self._write_sidecar()

    def _file_time(self, at: float) -> float:
        assert self._sidecar is not None
        return round(max(0.0, at - self._sidecar.started_at), 3)

    def _close_pause(self, at: float) -> None:
        assert self._sidecar is not None
        paused = self._sidecar.paused
        if paused and paused[-1].end is None:
            paused[-1] = PausedInterval(paused[-1].start, max(at, paused[-1].start))

    def _fail(self, exc: Exception) -> None:
        for writer in (self._audio, self._video):
            if writer is not None:
                try:
                    writer.close()
                except Exception:
                    logger.exception("%s: closing after a failure failed too", self._file)
        self._audio = self._video = None
        if self._sidecar is not None:
            self._sidecar.error = repr(exc)
            self._write_sidecar()

    def _finish(self, item: _Finish) -> TrackSidecar:
        sidecar = self._sidecar
        if sidecar is None:
            raise RuntimeError(f"{self._file}: the recording never started")
        duration = 0.0
        try:
            if self._audio is not None:
                # Trailing silence up to the end: the file lasts as long as the track was connected.
                self._audio.write_silence(self._audio_timeline.pad_to(item.at - sidecar.started_at))
                duration = self._audio.close()
            elif self._video is not None:
                duration = self._video.close()
        except Exception as exc:
            logger.exception("%s: finalizing failed", self._file)
            sidecar.error = repr(exc)
        self._audio = self._video = None
        self._close_pause(self._file_time(item.at))
        sidecar.ended_at = item.at
        sidecar.duration = round(duration, 3)
        sidecar.frames_dropped = item.frames_dropped
        path = self._directory / self._file
        sidecar.sha256 = sha256_file(path) if path.exists() else ""
        self._write_sidecar()
        return sidecar

    def _write_sidecar(self) -> None:
        assert self._sidecar is not None
        write_json_atomic(self._sidecar_path, self._sidecar.to_json())
