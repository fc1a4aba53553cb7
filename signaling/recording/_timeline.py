"""Where each received frame goes on a track's file timeline (pure logic, no I/O).

File time 0 is the wall-clock instant the track's first frame arrived. Frames are placed by their
own pts/time_base (aiortc issues #546 and #1073: rebuilding timestamps from a frame counter breaks
libx264 and drifts), and audio holes (packet loss, DTX, consent pauses upstream) become silence,
so that a file's duration is the wall-clock time the track was connected and tracks can be aligned
by their start times alone.

Timestamps are trusted only while they stay near the wall clock: aiortc's receiver numbers each
track from 0 (`TimestampMapper` in aiortc/rtcrtpreceiver.py) and treats any backwards RTP
timestamp (a reordered packet, a sender restarting its clock) as a 32-bit wrap, which makes the
next frame jump ~13 hours ahead at 90 kHz. When pts and wall clock disagree by more than
`max_skew` seconds, the timeline is re-anchored to the wall clock instead.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

logger = logging.getLogger(__name__)


class _Anchor:
    """Maps pts seconds to file seconds, re-anchoring when timestamps stop making sense."""

    def __init__(self, max_skew: float) -> None:
        self._base: float | None = None
        self._max_skew = max_skew
        self.reanchored = 0

    def position(self, pts: float, arrival: float, written: float) -> float:
        """File time for a frame with `pts` that arrived `arrival` s after the track started.

        `written` is how far the file already reaches; a sane position is near it and near the
        wall clock (the jitter buffer and event loop add delays, hence the generous skew).
        """
        if self._base is None:
            self._base = pts
        position = pts - self._base
        jumped_ahead = position - written > self._max_skew and position - arrival > self._max_skew
        went_back = written - position > self._max_skew
        lagging = arrival - position > 2.5 * self._max_skew
        if jumped_ahead or went_back or lagging:
            new_position = max(written, arrival)
            logger.info(
                "re-anchoring timeline: pts %.3f s maps to %.3f s, wrote %.3f s, wall %.3f s",
                pts,
                position,
                written,
                arrival,
            )
            self._base = pts - new_position
            self.reanchored += 1
            position = new_position
        return position


@dataclass(frozen=True, slots=True)
class AudioPlacement:
    """What to do with one audio frame: silence to write before it, leading samples to drop."""

    silence_before: int
    drop_leading: int


class AudioTimeline:
    """Keeps audio gap-free and wall-clock long: gaps become silence, overlaps are trimmed."""

    def __init__(self, rate: int, *, tolerance: float = 0.01, max_skew: float = 2.0) -> None:
        self.rate = rate
        self.written = 0
        """Samples on the file timeline so far."""
        self._tolerance = round(tolerance * rate)
        self._anchor = _Anchor(max_skew)

    @property
    def reanchored(self) -> int:
        return self._anchor.reanchored

    def place(self, pts: float, samples: int, arrival: float) -> AudioPlacement:
        """Place a frame of `samples` samples whose pts is `pts` seconds; advances `written`."""
        position = self._anchor.position(pts, arrival, self.written / self.rate)
        delta = round(position * self.rate) - self.written
        silence = delta if delta > self._tolerance else 0
        drop = min(-delta, samples) if delta < -self._tolerance else 0
        if silence or drop:
            logger.debug(
                "audio at %.3f s: %d samples of silence, %d dropped", position, silence, drop
            )
        self.written += silence + samples - drop
        return AudioPlacement(silence_before=silence, drop_leading=drop)

    def pad_to(self, seconds: float) -> int:
        """Silence needed so the file lasts `seconds` (the wall-clock time connected)."""
        missing = max(0, round(seconds * self.rate) - self.written)
        self.written += missing
        return missing


class VideoTimeline:
    """Chooses which frames to keep for a reduced frame rate, and their file time."""

    def __init__(self, fps: float, *, max_skew: float = 2.0) -> None:
        self._fps = fps
        self._last_slot = -1
        self._last_time = -math.inf
        self._anchor = _Anchor(max_skew)

    def place(self, pts: float, arrival: float) -> float | None:
        """File time for the frame if it starts a new 1/fps slot, else None (frame not kept)."""
        written = max(self._last_time, 0.0)
        position = self._anchor.position(pts, arrival, written)
        # A small epsilon keeps 20 fps input on exact 5 fps slots despite float rounding.
        slot = math.floor(position * self._fps + 1e-6)
        if slot <= self._last_slot or position <= self._last_time:
            return None
        self._last_slot = slot
        self._last_time = position
        return position
