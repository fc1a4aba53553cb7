"""A visit's transcript: each participant's recording on its own, merged on the shared clock.

Transcribing every participant's own track (rather than the mix) is what labels each line
with its speaker without any diarization: whoever's microphone it came from said it.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from faster_whisper.vad import get_speech_timestamps

from transcription._vad import vad_options
from transcription.audio import SAMPLE_RATE, duration_of, load_audio
from transcription.engine import Engine, Segment, Transcription, join_segments, load_engine
from visits.fingerprints import transcript_sha256

WORKER_NICENESS = 10
TURN_GAP_SECONDS = 1.5
TURN_PAD_SECONDS = 0.3


@dataclass(frozen=True)
class Track:
    """One participant's audio recording and where it starts on the visit's clock."""

    path: Path
    speaker_role: str
    speaker_name: str
    offset_seconds: float


def start_worker() -> None:
    """Process-pool initializer: transcription yields the CPU to live visits."""
    os.nice(WORKER_NICENESS)


@functools.cache
def _engine(name: str, model: str | None, threads: int) -> Engine:
    """One loaded model per worker process, reused for every track it transcribes."""
    return load_engine(name, model, threads=threads)


def transcribe_track(
    name: str, model: str | None, threads: int, path: Path, key: bytes | None = None
) -> Transcription:
    """Run in a worker process: the track's speech, times from the start of its file.

    Each turn (speech between pauses of at least TURN_GAP_SECONDS) is decoded on its own.
    Decoding the whole track would let Whisper run one segment across a pause in which the
    other person spoke, and the merged transcript would put their answer after it. `key`
    reads a recording encrypted at rest (settings.recording_key_bytes).
    """
    engine = _engine(name, model, threads)
    samples = load_audio(path, key=key)
    segments: list[Segment] = []
    language = "en"
    for start, end in turns(samples):
        heard = engine.transcribe_samples(samples[start:end])
        shift = start / SAMPLE_RATE
        language = heard.language
        segments.extend(
            replace(segment, start=segment.start + shift, end=segment.end + shift)
            for segment in heard.segments
        )
    return Transcription(
        segments=tuple(segments),
        text=join_segments(tuple(segments)),
        language=language,
        engine=engine.name,
        model=engine.model,
        engine_version=getattr(engine, "version", ""),
        duration=duration_of(samples),
    )


def turns(samples: np.ndarray) -> list[tuple[int, int]]:
    """Sample ranges of the track's turns: voice activity grouped across short pauses."""
    chunks = get_speech_timestamps(samples, vad_options(), sampling_rate=SAMPLE_RATE)
    gap, pad = round(TURN_GAP_SECONDS * SAMPLE_RATE), round(TURN_PAD_SECONDS * SAMPLE_RATE)
    ranges: list[list[int]] = []
    for chunk in chunks:
        if ranges and chunk["start"] - ranges[-1][1] < gap:
            ranges[-1][1] = chunk["end"]
        else:
            ranges.append([chunk["start"], chunk["end"]])
    return [(max(0, start - pad), min(len(samples), end + pad)) for start, end in ranges]


def merge(tracks: list[tuple[Track, Transcription]]) -> list[dict[str, Any]]:
    """Every track's segments on the visit's clock, in the order they were said."""
    lines = [
        _line(track, segment)
        for track, transcription in tracks
        for segment in transcription.segments
    ]
    lines.sort(key=lambda line: (line["start"], line["end"], line["speaker_role"]))
    return lines


def _line(track: Track, segment: Segment) -> dict[str, Any]:
    return {
        "start": round(track.offset_seconds + segment.start, 3),
        "end": round(track.offset_seconds + segment.end, 3),
        "text": segment.text.strip(),
        "confidence": segment.confidence,
        "speaker_role": track.speaker_role,
        "speaker_name": track.speaker_name,
    }


def full_text(lines: list[dict[str, Any]]) -> str:
    """One line per segment: "Name (role): what they said"."""
    return "\n".join(
        f"{line['speaker_name']} ({line['speaker_role']}): {line['text']}" for line in lines
    )


def fingerprint(lines: list[dict[str, Any]]) -> str:
    """SHA-256 of the segments' canonical JSON (visits.fingerprints: what `audit verify`
    recomputes)."""
    return transcript_sha256(lines)
