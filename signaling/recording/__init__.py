"""Crash-safe per-participant recording of a visit, with encoding off the event loop.

Public face: `VisitRecorder` records a visit, `recover_recording` finishes one whose process
died, `RecordingManifest` describes the result (also written as manifest.json).
"""

from ._manifest import (
    MANIFEST_NAME,
    PausedInterval,
    RecordingManifest,
    TrackRecord,
)
from ._recover import media_duration, recover_recording
from ._visit import VisitRecorder
from ._writers import VideoRecordingOptions

__all__ = [
    "MANIFEST_NAME",
    "PausedInterval",
    "RecordingManifest",
    "TrackRecord",
    "VideoRecordingOptions",
    "VisitRecorder",
    "media_duration",
    "recover_recording",
]
