"""Encoders that run on a recorder's worker thread: one crash-safe file per track.

Both formats stay readable when the process is killed mid-write, which an MP4 does not (its index
is written at the end, DESIGN.md "Finalizing"):
- audio: Ogg/Opus, mono 48 kHz; an Ogg page every 0.25 s and the I/O buffer flushed after
  each packet, so a SIGKILL loses at most about the last half second.
- video: WebM/VP8 (default) or Matroska/H.264 at a reduced rate and size; a cluster at least
  every second and the I/O buffer flushed after each packet.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import numpy as np
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.stream import VideoStream

logger = logging.getLogger(__name__)

AUDIO_RATE = 48000
_OPUS_FRAME = 960  # 20 ms, the frame size libopus is opened with
_VIDEO_TIME_BASE = Fraction(1, 90000)  # the RTP video clock aiortc's decoded frames carry

AUDIO_CODEC = "opus"
AUDIO_SUFFIX = ".ogg"


@dataclass(frozen=True, slots=True)
class VideoRecordingOptions:
    """How participants' video is recorded: reduced, since it is evidence, not a broadcast."""

    enabled: bool = True
    fps: float = 5.0
    width: int = 320
    height: int = 240
    codec: Literal["vp8", "h264"] = "vp8"
    bit_rate: int = 250_000
    max_queued_frames: int = 10
    """Frames waiting for the encoder beyond this are dropped, never blocking the event loop."""

    def __post_init__(self) -> None:
        if self.width % 2 or self.height % 2 or self.width <= 0 or self.height <= 0:
            raise ValueError("video width and height must be positive and even (yuv420p)")
        if not 0 < self.fps <= 30:
            raise ValueError("video fps must be in (0, 30]")

    @property
    def suffix(self) -> str:
        return ".webm" if self.codec == "vp8" else ".mkv"


def audio_to_mono_s16(frame: av.AudioFrame) -> np.ndarray:
    """Mix a decoded frame's channels down to one int16 channel (aiortc gives s16 stereo)."""
    channels = frame.layout.nb_channels
    data = frame.to_ndarray()
    # Planar formats hold one row per channel; packed ones interleave the channels.
    planes = data.reshape(channels, -1) if frame.format.is_planar else data.reshape(-1, channels).T
    if planes.dtype.kind == "f":
        planes = planes * 32767.0
    mono = planes[0] if channels == 1 else planes.astype(np.float32).mean(axis=0)
    return np.clip(mono, -32768, 32767).astype(np.int16)


class OpusFileWriter:
    """Writes mono 48 kHz int16 samples as Ogg/Opus; the caller places them on the timeline."""

    def __init__(self, path: Path, *, bit_rate: int = 32000) -> None:
        self._container: OutputContainer = av.open(
            str(path),
            "w",
            format="ogg",
            # libavformat's Ogg muxer holds back the last complete page (to mark the real
            # last page end-of-stream), so a kill loses up to two pages: 2 x 0.25 s.
            container_options={"page_duration": "250000", "flush_packets": "1"},
        )
        stream: AudioStream = self._container.add_stream("libopus", rate=AUDIO_RATE, layout="mono")
        stream.bit_rate = bit_rate
        self._stream = stream
        self._pending = np.zeros(0, dtype=np.int16)
        self._pts = 0
        self._resampler: av.AudioResampler | None = None

    @property
    def samples_written(self) -> int:
        return self._pts + len(self._pending)

    def to_output_rate(self, frame: av.AudioFrame) -> np.ndarray:
        """Samples of `frame` as mono 48 kHz int16 (resampling G.711's 8 kHz, if negotiated)."""
        mono = audio_to_mono_s16(frame)
        if frame.sample_rate == AUDIO_RATE:
            return mono
        if self._resampler is None:
            self._resampler = av.AudioResampler(format="s16", layout="mono", rate=AUDIO_RATE)
        # A fresh frame without pts: the resampler must not try to compensate for gaps, the
        # timeline does that (and the received frame may be shared with MediaRelay consumers).
        copy = av.AudioFrame.from_ndarray(mono[np.newaxis, :], format="s16", layout="mono")
        copy.sample_rate = frame.sample_rate
        out = [f.to_ndarray()[0] for f in self._resampler.resample(copy)]
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int16)

    def write(self, samples: np.ndarray) -> None:
        self._pending = np.concatenate([self._pending, samples])
        full = len(self._pending) - len(self._pending) % _OPUS_FRAME
        for start in range(0, full, _OPUS_FRAME):
            self._encode(self._pending[start : start + _OPUS_FRAME])
        self._pending = self._pending[full:]

    def write_silence(self, count: int) -> None:
        while count > 0:
            chunk = min(count, AUDIO_RATE)
            self.write(np.zeros(chunk, dtype=np.int16))
            count -= chunk

    def _encode(self, samples: np.ndarray | None) -> None:
        frame = None
        if samples is not None:
            frame = av.AudioFrame.from_ndarray(samples[np.newaxis, :], format="s16", layout="mono")
            frame.sample_rate = AUDIO_RATE
            frame.pts = self._pts
            frame.time_base = Fraction(1, AUDIO_RATE)
            self._pts += len(samples)
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self) -> float:
        """Flush and finalize; returns the duration in seconds (the last frame padded to 20 ms)."""
        try:
            if len(self._pending):
                padding = np.zeros(_OPUS_FRAME - len(self._pending), dtype=np.int16)
                self._encode(np.concatenate([self._pending, padding]))
                self._pending = np.zeros(0, dtype=np.int16)
            self._encode(None)
        finally:
            self._container.close()
        return self._pts / AUDIO_RATE


class VideoFileWriter:
    """Scales kept frames into a fixed-size tile (letterboxed) and encodes them."""

    def __init__(self, path: Path, options: VideoRecordingOptions) -> None:
        self._options = options
        self._container: OutputContainer = av.open(
            str(path),
            "w",
            format="webm" if options.codec == "vp8" else "matroska",
            container_options={"cluster_time_limit": "1000", "flush_packets": "1"},
        )
        gop = str(max(1, round(2 * options.fps)))  # a keyframe every 2 s: a cut file stays usable
        if options.codec == "vp8":
            stream: VideoStream = self._container.add_stream("libvpx", rate=round(options.fps))
            codec_options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
        else:
            stream = self._container.add_stream("libx264", rate=round(options.fps))
            # zerolatency: no frame buffering in the encoder, so a kill loses no extra frames.
            codec_options = {"preset": "ultrafast", "tune": "zerolatency"}
        stream.width = options.width
        stream.height = options.height
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = options.bit_rate
        stream.codec_context.time_base = _VIDEO_TIME_BASE
        stream.codec_context.gop_size = int(gop)
        stream.codec_context.thread_count = 1
        stream.codec_context.options = codec_options
        self._stream = stream
        self._last_pts: int | None = None

    def write(self, frame: av.VideoFrame, at: float) -> None:
        """Encode `frame` at file time `at` seconds (strictly increasing)."""
        pts = round(at / _VIDEO_TIME_BASE)
        if self._last_pts is not None and pts <= self._last_pts:
            return
        self._last_pts = pts
        out = self._fit(frame)
        out.pts = pts
        out.time_base = _VIDEO_TIME_BASE
        for packet in self._stream.encode(out):
            self._container.mux(packet)

    def _fit(self, frame: av.VideoFrame) -> av.VideoFrame:
        width, height = self._options.width, self._options.height
        scale = min(width / frame.width, height / frame.height)
        fit_w = max(2, int(frame.width * scale) // 2 * 2)
        fit_h = max(2, int(frame.height * scale) // 2 * 2)
        if (fit_w, fit_h) == (width, height):
            out = frame.reformat(width=width, height=height, format="yuv420p")
            if out is frame:
                # PyAV returns the frame itself when nothing changes (a browser that scaled
                # down to our size), and the relay shares that frame with the encoders of the
                # other participants' connections: setting our pts on it broke their streams.
                out = av.VideoFrame.from_ndarray(frame.to_ndarray(), format="yuv420p")
            return out
        canvas = np.zeros((height, width, 3), dtype=np.uint8)
        top, left = (height - fit_h) // 2, (width - fit_w) // 2
        canvas[top : top + fit_h, left : left + fit_w] = frame.to_ndarray(
            format="rgb24", width=fit_w, height=fit_h
        )
        return av.VideoFrame.from_ndarray(canvas, format="rgb24").reformat(format="yuv420p")

    def close(self) -> float:
        """Flush and finalize; returns the file's end time in seconds (last frame + 1/fps)."""
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
        finally:
            self._container.close()
        if self._last_pts is None:
            return 0.0
        return float(self._last_pts * _VIDEO_TIME_BASE) + 1 / self._options.fps
