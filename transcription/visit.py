"""A visit's transcript: each participant's recording on its own, merged on the shared clock.

Transcribing every participant's own track (rather than the mix) is what labels each line
with its speaker without any diarization: whoever's microphone it came from said it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transcription.engine import Engine, Segment, Transcription, load_engine

WORKER_NICENESS = 10


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


def transcribe_track(name: str, model: str | None, threads: int, path: Path) -> Transcription:
    """Run in a worker process: the track's speech, times from the start of its file."""
    return _engine(name, model, threads).transcribe(path)


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
    """SHA-256 of the segments' canonical JSON: what `audit verify` recomputes."""
    canonical = json.dumps(lines, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
