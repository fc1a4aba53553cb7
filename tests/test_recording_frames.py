"""The video recorder must not change frames it is given: the relay shares them."""

from __future__ import annotations

import fractions
from pathlib import Path

import av
import numpy as np
import pytest

from signaling.recording import VideoRecordingOptions
from signaling.recording._writers import VideoFileWriter


@pytest.mark.parametrize("size", [(320, 240), (640, 480)])
def test_recording_a_frame_leaves_its_timestamp_alone(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    """A frame already at the recording size (a browser that scaled down under load) keeps the
    pts and time base the other participants' encoders rely on."""
    width, height = size
    pixels = np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8)
    frame = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(format="yuv420p")
    frame.pts = 123_456
    frame.time_base = fractions.Fraction(1, 90_000)
    writer = VideoFileWriter(tmp_path / "video.webm", VideoRecordingOptions())
    writer.write(frame, 1.0)
    writer.write(frame, 1.2)
    writer.close()
    assert (frame.pts, frame.time_base) == (123_456, fractions.Fraction(1, 90_000))
    with av.open(str(tmp_path / "video.webm")) as container:
        decoded = list(container.decode(video=0))
    assert len(decoded) == 2
    assert (decoded[0].width, decoded[0].height) == (320, 240)
