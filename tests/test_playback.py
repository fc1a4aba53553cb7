"""The playback file: mixed audio, side-by-side video, the length of the recording."""

from __future__ import annotations

import asyncio
from pathlib import Path

import av
import numpy as np
import pytest

from signaling.playback import build_playback
from signaling.recording import RecordingManifest, VisitRecorder
from tests.media_fixtures import (
    RATE,
    Party,
    PatternVideoTrack,
    PcmAudioTrack,
    read_mono,
    relayed_visit,
    tone,
)

RED = (220, 30, 30)


def _probe(path: Path) -> tuple[dict[str, str], float, tuple[int, int], np.ndarray]:
    """Codec per stream type, container duration, video size and a frame from the middle."""
    with av.open(str(path)) as container:
        codecs = {s.type: s.codec_context.name for s in container.streams}
        duration = container.duration / av.time_base
        frames = list(container.decode(video=0))
        size = (frames[0].width, frames[0].height)
        middle = frames[len(frames) // 2].to_ndarray(format="rgb24")
    return codecs, duration, size, middle


def _top_level_boxes(path: Path) -> list[str]:
    """The MP4's top-level box types, in file order."""
    data = path.read_bytes()
    boxes, position = [], 0
    while position + 8 <= len(data):
        size = int.from_bytes(data[position : position + 4], "big")
        boxes.append(data[position + 4 : position + 8].decode("latin-1"))
        if size == 1:  # 64-bit size follows the type
            size = int.from_bytes(data[position + 8 : position + 16], "big")
        if size < 8:
            break
        position += size
    return boxes


def _strength(samples: np.ndarray, frequency: float) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    bins = np.fft.rfftfreq(len(samples), 1 / RATE)
    return float(spectrum[np.argmin(np.abs(bins - frequency))] / (np.median(spectrum) + 1e-9))


@pytest.mark.slow
async def test_playback_mixes_everyone_and_tiles_their_video(tmp_path: Path) -> None:
    """Two participants, one without camera: both voices, a video tile and a placeholder."""
    recorder = VisitRecorder(tmp_path / "rec")
    parties = [
        Party("client1", "client", [PcmAudioTrack(tone(440, 60)), PatternVideoTrack(color=RED)]),
        Party("cw1", "caseworker", [PcmAudioTrack(tone(660, 60))]),
    ]
    async with relayed_visit(recorder, parties):
        await asyncio.sleep(4)
        manifest = await recorder.close()

    out = tmp_path / "visit.mp4"
    assert await asyncio.to_thread(build_playback, manifest, tmp_path / "rec", out) == out
    expected = max(t.offset + t.duration for t in manifest.tracks)

    codecs, duration, size, middle = _probe(out)
    assert codecs == {"video": "h264", "audio": "aac"}
    assert duration == pytest.approx(expected, abs=0.3)
    assert size == (640, 240)  # two 320x240 tiles side by side
    left, right = middle[:, :320].reshape(-1, 3), middle[:, 320:].reshape(-1, 3)
    assert np.median(left, axis=0)[0] > 150  # the red camera picture
    assert np.abs(right.astype(int) - (48, 52, 60)).max() < 12  # the placeholder tile
    mixed = read_mono(out)
    assert len(mixed) / RATE == pytest.approx(expected, abs=0.3)
    assert _strength(mixed, 440) > 100
    assert _strength(mixed, 660) > 100
    boxes = _top_level_boxes(out)
    assert boxes.index("moov") < boxes.index("mdat")  # +faststart: playable while downloading


def test_playback_of_an_empty_recording_is_refused(tmp_path: Path) -> None:
    """Nothing recorded, nothing to build: a clear error instead of an empty file."""
    empty = RecordingManifest(started_at=None, ended_at=None, interrupted=False)
    with pytest.raises(ValueError, match="nothing to play back"):
        build_playback(empty, tmp_path, tmp_path / "visit.mp4")
    assert not (tmp_path / "visit.mp4").exists()
