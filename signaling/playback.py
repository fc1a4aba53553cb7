"""One playable file per visit: everyone's audio mixed, everyone's video side by side.

The per-track recordings are the record; this MP4 (H.264 + AAC, moov first so a browser can
start playing while it downloads) is a convenience copy for reviewing a visit. It is built
synchronously and streams through the inputs (memory does not grow with the visit's length), so
callers run it in an executor or a process pool.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np

from signaling.recording import PausedInterval, RecordingManifest, TrackRecord
from visits.crypto import media_source

logger = logging.getLogger(__name__)

_RATE = 48000
_AAC_FRAME = 1024
_PLACEHOLDER = (48, 52, 60)  # a participant without (or with paused) video: a dark tile


def _in_pause(paused: tuple[PausedInterval, ...], at: float) -> bool:
    return any(p.start <= at < (p.end if p.end is not None else float("inf")) for p in paused)


class _AudioSource:
    """One recorded audio track as float32 mono 48 kHz samples on the visit's timeline."""

    def __init__(self, path: Path, track: TrackRecord, key: bytes | None) -> None:
        self._start = round(track.offset * _RATE)
        self._source = media_source(path, key)
        self._container = av.open(self._source)
        self._frames = self._container.decode(audio=0)
        self._resampler = av.AudioResampler(format="flt", layout="mono", rate=_RATE)
        self._buffer = np.zeros(0, dtype=np.float32)
        self._buffer_start = self._start  # timeline sample of self._buffer[0]
        self._exhausted = False

    def _more(self) -> bool:
        if self._exhausted:
            return False
        try:
            frame = next(self._frames)
        except (StopIteration, av.error.FFmpegError):
            self._exhausted = True
            return False
        frame.pts = None  # decoded here, ours to change: resample without gap compensation
        chunks = [f.to_ndarray()[0] for f in self._resampler.resample(frame)]
        if chunks:
            self._buffer = np.concatenate([self._buffer, *chunks])
        return True

    def add_into(self, mix: np.ndarray, start: int) -> None:
        """Add this track's samples for timeline [start, start + len(mix)) into `mix`."""
        end = start + len(mix)
        while self._buffer_start + len(self._buffer) < end and self._more():
            pass
        first = self._buffer_start
        lo, hi = max(start, first), min(end, first + len(self._buffer))
        if hi > lo:
            mix[lo - start : hi - start] += self._buffer[lo - first : hi - first]
        # Blocks only move forward: drop what lies before this block's end.
        consumed = max(0, hi - first)
        self._buffer = self._buffer[consumed:]
        self._buffer_start += consumed

    def close(self) -> None:
        self._container.close()
        _close(self._source)


class _VideoSource:
    """One recorded video track: the frame showing at a visit time, scaled to the tile."""

    def __init__(
        self, path: Path, track: TrackRecord, tile: tuple[int, int], key: bytes | None
    ) -> None:
        self._track = track
        self._tile = tile
        self._source = media_source(path, key)
        self._container = av.open(self._source)
        self._frames: Iterator[av.VideoFrame] = self._container.decode(video=0)
        self._current: np.ndarray | None = None
        self._next: tuple[float, av.VideoFrame] | None = self._read()

    def _read(self) -> tuple[float, av.VideoFrame] | None:
        try:
            frame = next(self._frames)
        except (StopIteration, av.error.FFmpegError):
            return None
        return (self._track.offset + float(frame.time or 0.0), frame)

    def image_at(self, at: float) -> np.ndarray | None:
        """The latest frame at visit time `at`, or None outside the track or while paused."""
        while self._next is not None and self._next[0] <= at:
            width, height = self._tile
            self._current = self._next[1].to_ndarray(format="rgb24", width=width, height=height)
            self._next = self._read()
        track = self._track
        if not track.offset <= at < track.offset + track.duration:
            return None
        if _in_pause(track.paused, at - track.offset):
            return None
        return self._current

    def close(self) -> None:
        self._container.close()
        _close(self._source)


@dataclass
class _Participant:
    participant_id: str
    videos: list[_VideoSource] = field(default_factory=list)

    def image_at(self, at: float) -> np.ndarray | None:
        for video in self.videos:
            image = video.image_at(at)
            if image is not None:
                return image
        return None


def _close(source: str | BinaryIO) -> None:
    if not isinstance(source, str):
        source.close()


def _tile_size(directory: Path, manifest: RecordingManifest, key: bytes | None) -> tuple[int, int]:
    for track in manifest.tracks:
        if track.kind == "video":
            source = media_source(directory / Path(track.file).name, key)
            try:
                with av.open(source) as container:
                    stream = container.streams.video[0]
                    return stream.codec_context.width, stream.codec_context.height
            finally:
                _close(source)
    return 320, 240


def build_playback(
    manifest: RecordingManifest,
    directory: Path,
    out: Path,
    *,
    fps: int = 5,
    key: bytes | None = None,
) -> Path:
    """Write `out` (MP4, H.264 + AAC, +faststart) covering the whole recording; returns `out`.

    Audio tracks are mixed at their offsets; each participant gets one tile, in order of first
    appearance, showing their video where there is some and a placeholder elsewhere (no camera,
    not yet joined, consent pause). Written to a temporary name and renamed, so `out` is never a
    half-written file. Encrypted inputs are read through `key` (see visits.crypto); `out`
    is written in plain, for the caller to fingerprint and encrypt.
    """
    tracks = [t for t in manifest.tracks if t.duration > 0 and not t.error]
    if not tracks:
        raise ValueError("nothing to play back: the recording has no usable track")
    total = max(t.offset + t.duration for t in tracks)
    tile = _tile_size(directory, manifest, key)
    participants: dict[str, _Participant] = {}
    audio: list[_AudioSource] = []
    try:
        for track in tracks:
            participant = participants.setdefault(
                track.participant_id, _Participant(track.participant_id)
            )
            path = directory / Path(track.file).name
            if track.kind == "audio":
                audio.append(_AudioSource(path, track, key))
            else:
                participant.videos.append(_VideoSource(path, track, tile, key))
        tmp = out.with_name(out.stem + ".partial" + out.suffix)
        _encode(tmp, list(participants.values()), audio, tile, total, fps)
        os.replace(tmp, out)
    finally:
        for source in audio:
            source.close()
        for participant in participants.values():
            for video in participant.videos:
                video.close()
    logger.info("playback %s: %.1f s, %d participants", out.name, total, len(participants))
    return out


def _encode(
    path: Path,
    participants: list[_Participant],
    audio: list[_AudioSource],
    tile: tuple[int, int],
    total: float,
    fps: int,
) -> None:
    width, height = tile
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as container:
        video_stream = container.add_stream("libx264", rate=fps)
        video_stream.width = width * len(participants)
        video_stream.height = height
        video_stream.pix_fmt = "yuv420p"
        video_stream.codec_context.options = {"preset": "veryfast", "crf": "26"}
        audio_stream = container.add_stream("aac", rate=_RATE, layout="mono")
        audio_stream.bit_rate = 96000

        canvas = np.empty((height, width * len(participants), 3), dtype=np.uint8)
        frame_count = max(1, round(total * fps))
        total_samples = round(total * _RATE)
        written_samples = 0
        for index in range(frame_count):
            at = index / fps
            for slot, participant in enumerate(participants):
                image = participant.image_at(at)
                view = canvas[:, slot * width : (slot + 1) * width]
                if image is None:
                    view[:] = _PLACEHOLDER
                else:
                    view[:] = image
            frame = av.VideoFrame.from_ndarray(canvas, format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            container.mux(video_stream.encode(frame))

            # Audio up to the end of this video frame, in whole AAC frames (the last one short).
            until = total_samples if index == frame_count - 1 else round((index + 1) * _RATE / fps)
            while written_samples < until:
                count = min(_AAC_FRAME, total_samples - written_samples)
                mix = np.zeros(count, dtype=np.float32)
                for source in audio:
                    source.add_into(mix, written_samples)
                np.clip(mix, -1.0, 1.0, out=mix)
                audio_frame = av.AudioFrame.from_ndarray(
                    mix[np.newaxis, :], format="flt", layout="mono"
                )
                audio_frame.sample_rate = _RATE
                audio_frame.pts = written_samples
                audio_frame.time_base = Fraction(1, _RATE)
                container.mux(audio_stream.encode(audio_frame))
                written_samples += count
        container.mux(video_stream.encode(None))
        container.mux(audio_stream.encode(None))
