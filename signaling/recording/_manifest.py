"""The records a recording leaves on disk: one sidecar per track, one manifest per visit.

A sidecar is written when a track's first frame arrives and rewritten on every pause/resume and
at the end, so a directory left by a killed process still says who was recorded, from when, and
under which consent state; `recover_recording` turns those sidecars into a manifest.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

logger = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
SIDECAR_SUFFIX = ".track.json"

Kind = Literal["audio", "video"]

# Participant ids become part of file names: ids only, never user input (STYLE.md).
_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def check_participant_id(participant_id: str) -> str:
    """Refuse anything that is not a plain id, so a file name can never escape the directory."""
    if not _ID_PATTERN.fullmatch(participant_id):
        raise ValueError(f"participant id must match {_ID_PATTERN.pattern}: {participant_id!r}")
    return participant_id


@dataclass(frozen=True, slots=True)
class PausedInterval:
    """Seconds on the track's own file timeline during which consent was missing.

    Audio is silence there and video has no frames. `end` is None while still paused (only seen
    in the sidecar of a live or killed recording).
    """

    start: float
    end: float | None


@dataclass(slots=True)
class TrackSidecar:
    """What is known about one recorded track; the JSON next to its media file."""

    participant_id: str
    role: str
    kind: Kind
    codec: str
    file: str
    started_at: float
    """time.time() when the track's first frame arrived: file time 0 is this instant."""
    paused: list[PausedInterval] = field(default_factory=list)
    ended_at: float | None = None
    duration: float | None = None
    sha256: str | None = None
    frames_dropped: int = 0
    error: str | None = None
    recovered: bool = False

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrackSidecar:
        data = dict(data)
        data["paused"] = [PausedInterval(**p) for p in data.get("paused", [])]
        return cls(**data)


@dataclass(frozen=True, slots=True)
class TrackRecord:
    """One recorded track as the manifest lists it."""

    participant_id: str
    role: str
    kind: Kind
    codec: str
    file: str
    """File name inside the recording directory."""
    started_at: float
    offset: float
    """Seconds from the visit's recording start (the earliest track start) to file time 0."""
    duration: float
    sha256: str
    paused: tuple[PausedInterval, ...] = ()
    frames_dropped: int = 0
    error: str | None = None
    recovered: bool = False


@dataclass(frozen=True, slots=True)
class RecordingManifest:
    """What later steps (transcription, playback, audit) need to find and trust the files."""

    started_at: float | None
    """time.time() of the earliest track start; None if nothing was recorded."""
    ended_at: float | None
    interrupted: bool
    """True when the recording process died and the files were repaired by recover_recording."""
    tracks: tuple[TrackRecord, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RecordingManifest:
        tracks = tuple(
            TrackRecord(
                **{
                    **t,
                    "paused": tuple(PausedInterval(**p) for p in t.get("paused", [])),
                }
            )
            for t in data.get("tracks", [])
        )
        return cls(
            started_at=data["started_at"],
            ended_at=data["ended_at"],
            interrupted=data["interrupted"],
            tracks=tracks,
        )

    @classmethod
    def load(cls, directory: Path) -> RecordingManifest:
        return cls.from_json(json.loads((directory / MANIFEST_NAME).read_text()))


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write-then-rename, so a crash leaves the old or the new JSON, never half of one."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w") as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def build_manifest(
    sidecars: list[TrackSidecar], *, interrupted: bool, ended_at: float | None
) -> RecordingManifest:
    """Order tracks by start and express each start as an offset from the earliest one."""
    finished = sorted(
        (s for s in sidecars if s.duration is not None and s.sha256 is not None),
        key=lambda s: (s.started_at, s.file),
    )
    started_at = finished[0].started_at if finished else None
    tracks = tuple(
        TrackRecord(
            participant_id=s.participant_id,
            role=s.role,
            kind=s.kind,
            codec=s.codec,
            file=s.file,
            started_at=s.started_at,
            offset=round(s.started_at - started_at, 6) if started_at is not None else 0.0,
            duration=s.duration if s.duration is not None else 0.0,
            sha256=s.sha256 or "",
            paused=tuple(s.paused),
            frames_dropped=s.frames_dropped,
            error=s.error,
            recovered=s.recovered,
        )
        for s in finished
    )
    if ended_at is None and finished:
        ended_at = max(s.ended_at or s.started_at + (s.duration or 0.0) for s in finished)
    return RecordingManifest(
        started_at=started_at, ended_at=ended_at, interrupted=interrupted, tracks=tracks
    )
