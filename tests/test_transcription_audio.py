"""Decoding audio and video files into 16 kHz mono samples for the engines."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from tests import speech
from transcription.audio import SAMPLE_RATE, AudioError, load_audio
from transcription.engine import load_engine
from transcription.samples import SAMPLES, sample
from transcription.wer import word_error_rate


def test_shipped_ogg_opus_samples_decode_to_16_khz_mono_float32() -> None:
    """Every shipped Ogg/Opus clip decodes to 8-15 s of float32 samples within [-1, 1]."""
    for clip in SAMPLES:
        samples = load_audio(clip.path)
        assert samples.dtype == np.float32
        assert samples.ndim == 1
        assert 8.0 <= len(samples) / SAMPLE_RATE <= 15.0
        peak = float(np.abs(samples).max())
        assert 0.3 < peak <= 1.0


def test_samples_are_small_enough_to_ship() -> None:
    """All clips together stay under 1 MB."""
    assert sum(clip.path.stat().st_size for clip in SAMPLES) < 1_000_000


@pytest.mark.parametrize("container", ["webm", "mp4", "mkv"])
def test_audio_track_of_a_video_file_decodes_like_the_source(
    tmp_path: Path, container: str
) -> None:
    """A video's stereo audio track (Opus 48 kHz or AAC 44.1 kHz) comes back as the same
    16 kHz mono signal as the clip it was made from."""
    clip = sample("caseworker_plan")
    video = speech.video_file(clip.path, tmp_path / f"visit.{container}")
    original, decoded = load_audio(clip.path), load_audio(video)
    assert len(decoded) == pytest.approx(len(original), abs=0.05 * SAMPLE_RATE)
    rms = lambda x: float(np.sqrt(np.mean(x**2)))  # noqa: E731
    assert rms(decoded) == pytest.approx(rms(original), rel=0.1)


@pytest.mark.slow
def test_video_file_transcribes_like_its_audio(tmp_path: Path) -> None:
    """Transcribing an MP4 (H.264 + AAC) gives the text that was spoken in it."""
    clip = sample("client_update")
    video = speech.video_file(clip.path, tmp_path / "visit.mp4")
    result = load_engine().transcribe(video)
    assert word_error_rate(clip.text, result.text) <= 0.1


def test_missing_file_is_an_audio_error(tmp_path: Path) -> None:
    """A path that does not exist raises AudioError naming it."""
    missing = tmp_path / "gone.ogg"
    with pytest.raises(AudioError, match=r"gone\.ogg: no such file"):
        load_audio(missing)


def test_directory_is_an_audio_error(tmp_path: Path) -> None:
    """A directory is not mistaken for a file."""
    with pytest.raises(AudioError, match="not a file"):
        load_audio(tmp_path)


def test_file_that_is_not_media_is_an_audio_error(tmp_path: Path) -> None:
    """Text posing as audio raises AudioError, not an FFmpeg exception."""
    fake = tmp_path / "notes.wav"
    fake.write_text("not audio at all\n" * 100)
    with pytest.raises(AudioError, match="not a readable audio or video file"):
        load_audio(fake)


def test_video_without_audio_is_an_audio_error(tmp_path: Path) -> None:
    """A camera-only recording raises AudioError saying there is no audio stream."""
    path = tmp_path / "silent-film.webm"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libvpx", rate=10)
        stream.width, stream.height = 64, 48
        stream.pix_fmt = "yuv420p"
        frame = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), dtype=np.uint8), format="rgb24")
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    with pytest.raises(AudioError, match="no audio stream"):
        load_audio(path)


def test_truncated_recording_keeps_the_audio_before_the_damage(tmp_path: Path) -> None:
    """A recording cut off mid-write (a crash) still yields the audio that was written."""
    clip = sample("client_closing")
    whole = clip.path.read_bytes()
    cut = tmp_path / "cut.ogg"
    cut.write_bytes(whole[: len(whole) // 2])
    decoded = load_audio(cut)
    expected = len(load_audio(clip.path)) / 2
    assert len(decoded) == pytest.approx(expected, rel=0.25)
