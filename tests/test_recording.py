"""Recording visits: real aiortc peers on loopback, a relaying server, real files."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from signaling.recording import (
    MANIFEST_NAME,
    RecordingManifest,
    TrackRecord,
    VideoRecordingOptions,
    VisitRecorder,
    media_duration,
)
from signaling.recording._manifest import sha256_file
from tests.media_fixtures import (
    RATE,
    Party,
    PatternVideoTrack,
    PcmAudioTrack,
    best_match,
    read_mono,
    relayed_visit,
    speech,
    tone,
)

# Acceptance bar for "the file lasts as long as the participant was connected".
DURATION_TOLERANCE = 0.5
# Normalized cross-correlation of a recording with the speech that was sent. The audio passes
# two lossy Opus encodings (client->server, then the recording); measured peaks are ~0.96 for
# the participant's own speech and ~0.06 for the other participant's, so 0.8 / 0.3 separate
# "this is what was said" from "this is someone else" with a wide margin either way.
OWN_SPEECH_MIN = 0.8
OTHER_SPEECH_MAX = 0.3
LEAD_SILENCE = 2.0


def _track(manifest: RecordingManifest, participant_id: str, kind: str) -> TrackRecord:
    (track,) = [t for t in manifest.tracks if t.participant_id == participant_id and t.kind == kind]
    return track


def _speech_template(samples: np.ndarray) -> np.ndarray:
    """The spoken part of generated speech (leading silence and trailing silence cut off)."""
    spoken = samples[round(LEAD_SILENCE * RATE) :].astype(np.float32) / 32768
    return spoken[: np.nonzero(np.abs(spoken) > 0.01)[0][-1]]


def _rms(samples: np.ndarray, start: float, end: float) -> float:
    window = samples[round(start * RATE) : round(end * RATE)]
    return float(np.sqrt(np.mean(window.astype(np.float64) ** 2)))


def _sidecars(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in directory.glob("*.track.json")]


def _file_names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _video_frames(path: Path) -> list[av.VideoFrame]:
    with av.open(str(path)) as container:
        return list(container.decode(video=0))


@pytest.mark.slow
async def test_each_participant_is_recorded_aligned_and_recognisable(tmp_path: Path) -> None:
    """Two relayed participants: each gets a wall-clock-long audio file of their own speech."""
    said = {
        "client1": speech(tmp_path, "Hello, this is the client, calling about the housing form."),
        "cw1": speech(
            tmp_path, "Good morning, I am your caseworker. Let us review it.", voice="en-gb"
        ),
    }
    recorder = VisitRecorder(tmp_path / "rec")
    parties = [
        Party("client1", "client", [PcmAudioTrack(said["client1"]), PatternVideoTrack()]),
        Party("cw1", "caseworker", [PcmAudioTrack(said["cw1"]), PatternVideoTrack()]),
    ]
    async with relayed_visit(recorder, parties):
        await asyncio.sleep(10)
        hung_up_at = time.time()
        for party in parties:
            await party.hang_up()
        manifest = await recorder.close()
        # Each client received the other's audio and video through the relay.
        for party in parties:
            assert sorted(c.frames > 20 for c in party.received) == [True, True]

    assert RecordingManifest.load(tmp_path / "rec") == manifest
    assert not manifest.interrupted
    assert len(manifest.tracks) == 4
    for party in parties:
        audio = _track(manifest, party.participant_id, "audio")
        path = tmp_path / "rec" / audio.file
        connected = hung_up_at - party.connected_at
        assert abs(audio.duration - connected) <= DURATION_TOLERANCE
        assert abs(media_duration(path) - audio.duration) < 0.05
        assert audio.sha256 == sha256_file(path)
        assert audio.offset == pytest.approx(audio.started_at - manifest.started_at, abs=1e-3)
        recorded = read_mono(path)
        own, lag = best_match(recorded, _speech_template(said[party.participant_id]))
        other_id = next(p.participant_id for p in parties if p is not party)
        other, _ = best_match(recorded, _speech_template(said[other_id]))
        assert own >= OWN_SPEECH_MIN
        assert other <= OTHER_SPEECH_MAX
        # The speech sits where it was said: after the lead silence, give or take the network.
        assert lag == pytest.approx(LEAD_SILENCE, abs=0.3)


@pytest.mark.slow
async def test_pause_leaves_silence_and_keeps_wall_clock_duration(tmp_path: Path) -> None:
    """While paused, audio is silence and video has no frames; the duration is unchanged."""
    recorder = VisitRecorder(tmp_path)
    party = Party("client1", "client", [PcmAudioTrack(tone(440, 60)), PatternVideoTrack()])
    async with relayed_visit(recorder, [party]):
        await asyncio.sleep(2)
        recorder.pause()
        await asyncio.sleep(2)
        recorder.resume()
        await asyncio.sleep(2)
        hung_up_at = time.time()
        await party.hang_up()
        manifest = await recorder.close()

    audio = _track(manifest, "client1", "audio")
    video = _track(manifest, "client1", "video")
    assert abs(audio.duration - (hung_up_at - party.connected_at)) <= DURATION_TOLERANCE
    (pause,) = audio.paused
    assert pause.end is not None
    assert pause.start == pytest.approx(2.0, abs=0.3)
    assert pause.end - pause.start == pytest.approx(2.0, abs=0.1)
    samples = read_mono(tmp_path / audio.file)
    assert _rms(samples, pause.start + 0.1, pause.end - 0.1) < 1e-3
    assert _rms(samples, 0.5, pause.start - 0.2) > 0.1
    assert _rms(samples, pause.end + 0.2, audio.duration - 0.5) > 0.1
    (video_pause,) = video.paused
    frame_times = [float(f.time) for f in _video_frames(tmp_path / video.file)]
    assert frame_times
    assert not [t for t in frame_times if video_pause.start + 0.05 < t < video_pause.end - 0.05]
    sidecars = _sidecars(tmp_path)
    assert len(sidecars) == 2
    assert all(s["paused"] and s["paused"][0]["end"] is not None for s in sidecars)


@pytest.mark.slow
async def test_close_is_idempotent_and_safe_to_call_concurrently(tmp_path: Path) -> None:
    """Every end path may call close() at once, or be cancelled: one close, one manifest."""
    recorder = VisitRecorder(tmp_path)
    party = Party("client1", "client", [PcmAudioTrack(tone(440, 60))])
    async with relayed_visit(recorder, [party]):
        await asyncio.sleep(1.5)
        impatient = asyncio.create_task(recorder.close())
        await asyncio.sleep(0)
        impatient.cancel()
        results = await asyncio.gather(*(recorder.close() for _ in range(5)))
        again = await recorder.close()
    assert impatient.cancelled()
    assert all(r is results[0] for r in results)
    assert again is results[0]
    assert len(again.tracks) == 1
    assert RecordingManifest.load(tmp_path) == again
    assert again.tracks[0].duration == pytest.approx(1.5, abs=DURATION_TOLERANCE)

    late = PcmAudioTrack(tone(440, 1))
    recorder.add_track("client1", "client", late)
    assert late.readyState == "ended"  # stopped, not left unread
    assert await recorder.close() is again


@pytest.mark.slow
@pytest.mark.parametrize("codec", ["vp8", "h264"])
async def test_video_is_recorded_at_the_reduced_rate_and_size(tmp_path: Path, codec: str) -> None:
    """640x480 at 20 fps in, the configured size and frame rate out, in a readable file."""
    options = VideoRecordingOptions(fps=5, width=320, height=240, codec=codec)
    recorder = VisitRecorder(tmp_path, options)
    party = Party("client1", "client", [PatternVideoTrack(fps=20)])
    async with relayed_visit(recorder, [party]):
        await asyncio.sleep(4)
        manifest = await recorder.close()

    video = _track(manifest, "client1", "video")
    assert video.codec == codec
    assert video.file.endswith(options.suffix)
    frames = _video_frames(tmp_path / video.file)
    assert {(f.width, f.height) for f in frames} == {(320, 240)}
    times = [float(f.time) for f in frames]
    fps = (len(times) - 1) / (times[-1] - times[0])
    assert fps == pytest.approx(5, abs=0.5)
    assert video.duration == pytest.approx(4, abs=DURATION_TOLERANCE)
    assert video.frames_dropped == 0


@pytest.mark.slow
async def test_a_gap_in_the_received_audio_is_filled_with_silence(tmp_path: Path) -> None:
    """A sender that skips 1.5 s of timestamps (lost packets) leaves 1.5 s of silence."""
    recorder = VisitRecorder(tmp_path)
    source = PcmAudioTrack(tone(440, 60), skip=(2.0, 1.5))
    party = Party("client1", "client", [source])
    async with relayed_visit(recorder, [party]):
        await asyncio.sleep(5)
        hung_up_at = time.time()
        await party.hang_up()
        manifest = await recorder.close()

    audio = _track(manifest, "client1", "audio")
    assert abs(audio.duration - (hung_up_at - party.connected_at)) <= DURATION_TOLERANCE
    samples = read_mono(tmp_path / audio.file)
    assert source.first_frame_at is not None
    # The first frame was sent at source time 0, the gap is at source time 2.0-3.5 s.
    lead = audio.started_at - source.first_frame_at
    assert _rms(samples, 2.0 - lead + 0.15, 3.5 - lead - 0.15) < 1e-3
    assert _rms(samples, 0.3, 2.0 - lead - 0.15) > 0.1
    assert _rms(samples, 3.5 - lead + 0.15, audio.duration - 0.5) > 0.1


class _EndlessSilence(MediaStreamTrack):
    """An audio track that ends when stopped, for tests that never send a frame."""

    kind = "audio"

    async def recv(self) -> av.AudioFrame:
        await asyncio.sleep(3600)
        raise MediaStreamError


async def test_a_track_that_never_sent_a_frame_leaves_no_file(tmp_path: Path) -> None:
    """No frame, no file and no manifest entry; the track is still stopped at close."""
    recorder = VisitRecorder(tmp_path)
    track = _EndlessSilence()
    recorder.add_track("client1", "client", track)
    manifest = await recorder.close()
    assert manifest.tracks == ()
    assert manifest.started_at is None
    assert track.readyState == "ended"
    assert _file_names(tmp_path) == [MANIFEST_NAME]


@pytest.mark.parametrize("participant_id", ["../escape", "a/b", "", "x" * 65, "ünï"])
def test_participant_ids_that_are_not_plain_ids_are_refused(
    tmp_path: Path, participant_id: str
) -> None:
    """File names are built from ids only: anything path-like is refused."""
    recorder = VisitRecorder(tmp_path)
    with pytest.raises(ValueError, match="participant id"):
        recorder.add_track(participant_id, "client", _EndlessSilence())
