"""Decode any audio or video file into the 16 kHz mono float32 samples Whisper expects.

PyAV bundles FFmpeg's libraries, so neither engine needs the ffmpeg command line tool, and
both engines get exactly the same samples from the same file.
"""

from __future__ import annotations

import logging
import wave
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np

from visits.crypto import EncryptionError, media_source

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16_000


class AudioError(Exception):
    """The file is missing, is not a media file, or has no audio to decode."""


def load_audio(
    path: Path, sample_rate: int = SAMPLE_RATE, *, key: bytes | None = None
) -> np.ndarray:
    """Samples of the file's first audio stream, averaged to mono, as float32 in [-1, 1].

    Channels are averaged here rather than by FFmpeg's down-mix matrix, which adds 3 dB when
    both channels carry the same voice (as a browser's "stereo" microphone track does).

    A recording cut short by a crash may end in a damaged packet: what decodes before the
    damage is kept (and logged), since a partial visit is still worth transcribing.

    A recording encrypted at rest (visits.crypto) is decrypted on the fly with `key`.
    """
    path = Path(path)
    if not path.exists():
        raise AudioError(f"{path}: no such file")
    if not path.is_file():
        raise AudioError(f"{path}: not a file")
    try:
        source = media_source(path, key)
    except EncryptionError as error:
        raise AudioError(str(error)) from error
    try:
        return _decode(path, source, sample_rate)
    finally:
        if not isinstance(source, str):
            source.close()


def _decode(path: Path, source: str | BinaryIO, sample_rate: int) -> np.ndarray:
    try:
        container = av.open(source, metadata_errors="ignore")
    except (av.FFmpegError, OSError, EncryptionError) as error:
        raise AudioError(f"{path}: not a readable audio or video file ({error})") from error
    with container:
        if not container.streams.audio:
            raise AudioError(f"{path}: the file has no audio stream")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="fltp", rate=sample_rate)
        chunks: list[np.ndarray] = []
        try:
            for frame in container.decode(stream):
                # Recordings may have timestamp jumps (packet loss, restarts); the resampler
                # rejects non-monotonic pts, and we only need the samples in order.
                frame.pts = None
                chunks.extend(_mono(out) for out in resampler.resample(frame))
        except (av.FFmpegError, EncryptionError) as error:
            if not chunks:
                raise AudioError(f"{path}: cannot decode audio ({error})") from error
            logger.warning("%s: decoding stopped early, keeping what was read: %s", path, error)
        chunks.extend(_mono(out) for out in resampler.resample(None))
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(chunks).astype(np.float32, copy=False)


def _mono(frame: av.AudioFrame) -> np.ndarray:
    """The mean of a planar frame's channels."""
    planes = frame.to_ndarray()  # (channels, samples)
    return planes[0] if len(planes) == 1 else planes.mean(axis=0, dtype=np.float32)


def duration_of(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> float:
    """Length of `samples` in seconds."""
    return len(samples) / sample_rate


def write_wav(samples: np.ndarray, path: Path, sample_rate: int = SAMPLE_RATE) -> Path:
    """Write mono float samples as 16-bit PCM WAV (what browsers' fake capture devices read)."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(sample_rate)
        file.writeframes(pcm.tobytes())
    return Path(path)
