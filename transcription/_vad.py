"""Voice activity detection shared by both engines, so silence and noise never reach Whisper.

Whisper invents text for silence ("You", "Thank you.") and hiss ("."), so only the stretches
Silero VAD (bundled with faster-whisper, run through onnxruntime) calls speech are decoded.
faster-whisper applies these options itself; openai-whisper goes through `speech_only`.
"""

from __future__ import annotations

import logging

import numpy as np
from faster_whisper.vad import (
    SpeechTimestampsMap,
    VadOptions,
    collect_chunks,
    get_speech_timestamps,
)

from transcription.audio import SAMPLE_RATE

logger = logging.getLogger(__name__)


def vad_options() -> VadOptions:
    """faster-whisper's defaults: 0.5 speech threshold, 2 s silence splits, 0.4 s padding."""
    return VadOptions()


def speech_only(samples: np.ndarray) -> tuple[np.ndarray, SpeechTimestampsMap | None]:
    """The speech parts of `samples` back to back, and the map from their times to the file's.

    This is what faster-whisper does with `vad_filter=True`, so both engines decode the same
    audio. With no speech at all the array is empty and the map None.
    """
    chunks = get_speech_timestamps(samples, vad_options(), sampling_rate=SAMPLE_RATE)
    if not chunks:
        return np.zeros(0, dtype=np.float32), None
    pieces, _ = collect_chunks(samples, chunks, sampling_rate=SAMPLE_RATE)
    speech = np.concatenate(pieces).astype(np.float32, copy=False)
    timestamps = SpeechTimestampsMap(chunks, SAMPLE_RATE)
    logger.debug(
        "VAD kept %.1f s of %.1f s in %d chunks",
        len(speech) / SAMPLE_RATE,
        len(samples) / SAMPLE_RATE,
        len(chunks),
    )
    return speech, timestamps
