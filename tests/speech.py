"""Test helpers that make audio: silence, noise at realistic levels, and small video files."""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType

import av
import numpy as np

from transcription.audio import SAMPLE_RATE, load_audio, write_wav

logger = logging.getLogger(__name__)


def silence(seconds: float) -> np.ndarray:
    """Digital silence at 16 kHz."""
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)


def white_noise(seconds: float, dbfs: float, seed: int = 0) -> np.ndarray:
    """Gaussian white noise (like microphone hiss) with RMS level `dbfs`."""
    noise = np.random.default_rng(seed).standard_normal(int(seconds * SAMPLE_RATE))
    return _at_level(noise, dbfs)


def pink_noise(seconds: float, dbfs: float, seed: int = 0) -> np.ndarray:
    """1/f noise (like a fan, traffic or a busy room) with RMS level `dbfs`."""
    count = int(seconds * SAMPLE_RATE)
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(count))
    frequencies = np.arange(len(spectrum), dtype=np.float64)
    frequencies[0] = 1.0
    return _at_level(np.fft.irfft(spectrum / np.sqrt(frequencies), count), dbfs)


def _at_level(signal: np.ndarray, dbfs: float) -> np.ndarray:
    rms = float(np.sqrt(np.mean(signal**2)))
    return (signal * (10 ** (dbfs / 20) / rms)).astype(np.float32)


def wav_file(samples: np.ndarray, path: Path) -> Path:
    """Write 16 kHz samples as a WAV file and return its path."""
    return write_wav(samples, path)


# (video codec, audio codec, audio rate) per container, as browsers and phones record them.
VIDEO_FORMATS = MappingProxyType(
    {
        "webm": ("libvpx", "libopus", 48_000),
        "mp4": ("libx264", "aac", 44_100),
        "mkv": ("libvpx", "libopus", 48_000),
    }
)


def video_file(
    audio: Path, path: Path, *, fps: int = 10, size: tuple[int, int] = (160, 120)
) -> Path:
    """A small video (grey frames) whose stereo audio track is the audio of `audio`.

    Stereo at the container's usual rate, so reading it back also exercises down-mixing and
    resampling.
    """
    video_codec, audio_codec, rate = VIDEO_FORMATS[path.suffix.lstrip(".")]
    samples = load_audio(audio, sample_rate=rate)
    stereo = np.stack([samples, samples])
    with av.open(str(path), "w") as container:
        video = container.add_stream(video_codec, rate=fps)
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        sound = container.add_stream(audio_codec, rate=rate, layout="stereo")
        frame_samples = 1024
        for start in range(0, stereo.shape[1], frame_samples):
            chunk = np.ascontiguousarray(stereo[:, start : start + frame_samples])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            frame.sample_rate = rate
            frame.pts = start
            frame.time_base = Fraction(1, rate)
            for packet in sound.encode(frame):
                container.mux(packet)
        for packet in sound.encode(None):
            container.mux(packet)
        grey = np.full((size[1], size[0], 3), 128, dtype=np.uint8)
        for index in range(int(len(samples) / rate * fps)):
            frame = av.VideoFrame.from_ndarray(grey, format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
    return path
