"""A recorder killed with SIGKILL leaves files that recover_recording turns into a recording."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiortc import RTCSessionDescription

from signaling.ice import make_peer_connection
from signaling.recording import MANIFEST_NAME, RecordingManifest, recover_recording
from signaling.recording._manifest import sha256_file
from tests.media_fixtures import (
    LOOPBACK_ICE,
    RATE,
    PatternVideoTrack,
    PcmAudioTrack,
    read_mono,
    tone,
)

REPO = Path(__file__).resolve().parents[1]
# What a SIGKILL may cost: the two Ogg pages the muxer holds (<= 0.5 s), the worker queue and
# the jitter buffer; "a few seconds" would be acceptable, we hold it to 1 s.
MAX_LOSS = 1.0


async def _line(process: asyncio.subprocess.Process) -> dict[str, Any]:
    assert process.stdout is not None
    async with asyncio.timeout(20):
        line = await process.stdout.readline()
    assert line, "the recorder child exited early"
    return json.loads(line)


async def _send(process: asyncio.subprocess.Process, text: str) -> None:
    assert process.stdin is not None
    process.stdin.write(text.encode() + b"\n")
    await process.stdin.drain()


def _exists(path: Path) -> bool:
    return path.exists()


@pytest.mark.slow
async def test_a_killed_recording_is_recovered_playable_and_nearly_complete(
    tmp_path: Path,
) -> None:
    """SIGKILL mid-recording (and mid-pause): recovery keeps all but ~1 s, decodable."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.media_fixtures",
        "record",
        str(tmp_path),
        "--video",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    client = make_peer_connection(LOOPBACK_ICE)
    client.addTrack(PcmAudioTrack(tone(440, 60)))
    client.addTrack(PatternVideoTrack())
    try:
        await client.setLocalDescription(await client.createOffer())
        description = client.localDescription
        await _send(process, json.dumps({"sdp": description.sdp, "type": description.type}))
        answer = await _line(process)
        await client.setRemoteDescription(RTCSessionDescription(**answer))
        connected_at = (await _line(process))["at"]
        await asyncio.sleep(5)
        await _send(process, "pause")
        paused_at = (await _line(process))["at"]
        await asyncio.sleep(1)
        killed_at = time.time()
        process.send_signal(signal.SIGKILL)
        await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await client.close()

    assert process.returncode == -signal.SIGKILL
    assert not _exists(tmp_path / MANIFEST_NAME)
    manifest = recover_recording(tmp_path)

    assert manifest.interrupted
    assert RecordingManifest.load(tmp_path) == manifest
    by_kind = {t.kind: t for t in manifest.tracks}
    assert set(by_kind) == {"audio", "video"}
    audio, video = by_kind["audio"], by_kind["video"]
    sent = killed_at - connected_at
    assert sent - MAX_LOSS <= audio.duration <= sent + 0.2
    assert audio.recovered
    assert audio.sha256 == sha256_file(tmp_path / audio.file)
    samples = read_mono(tmp_path / audio.file)  # decodes to the end without error
    assert len(samples) / RATE == pytest.approx(audio.duration, abs=0.05)
    pause_start = paused_at - audio.started_at
    assert float(np.sqrt(np.mean(samples[RATE : round((pause_start - 0.2) * RATE)] ** 2))) > 0.1
    (pause,) = audio.paused
    assert pause.start == pytest.approx(pause_start, abs=0.1)
    assert pause.end == audio.duration  # still paused when killed: closed at the file's end
    # Video has no frames after the pause began, so it ends there (less what the kill cost).
    video_paused_at = paused_at - video.started_at
    assert video_paused_at - MAX_LOSS <= video.duration <= video_paused_at + 0.5
    assert video.recovered
    assert video.error is None

    again = recover_recording(tmp_path)
    assert again == manifest  # idempotent: nothing left to repair, still interrupted
