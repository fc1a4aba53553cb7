"""Server CPU of recording one participant, per recording format (% of one core).

The sender (a tone + 640x480 synthetic video at 20 fps, like Chromium's default) runs in a child
process so its encoding is not counted; this process is the server: it receives, decodes and
either discards (the baseline every visit pays for relaying anyway) or records. CPU is
`time.process_time()` (all threads: aiortc's decoders, the recording workers) over a window after
a warm-up. Run: `PYTHONPATH=. python benchmarks/recording_cpu.py [--seconds 20]`.
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from aiortc import RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

from signaling.ice import make_peer_connection
from signaling.playback import build_playback
from signaling.recording import RecordingManifest, VideoRecordingOptions, VisitRecorder
from tests.media_fixtures import LOOPBACK_ICE, FrameCounter, wait_connected

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
WARM_UP = 3.0


@dataclass(frozen=True)
class Case:
    name: str
    record: bool
    video: VideoRecordingOptions


CASES = (
    Case("receive_only", False, VideoRecordingOptions(enabled=False)),
    Case("audio_opus_only", True, VideoRecordingOptions(enabled=False)),
    Case("audio+vp8_webm_320x240_5fps", True, VideoRecordingOptions(codec="vp8")),
    Case("audio+h264_mkv_320x240_5fps", True, VideoRecordingOptions(codec="h264")),
    Case(
        "audio+vp8_webm_640x480_20fps",
        True,
        VideoRecordingOptions(codec="vp8", fps=20, width=640, height=480, bit_rate=800_000),
    ),
)


async def measure(case: Case, seconds: float, directory: Path) -> tuple[float, float]:
    """(CPU % of one core, recorded seconds) for one case, with a fresh sender and peer."""
    sender = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.media_fixtures",
        "send",
        "--video",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert sender.stdin is not None
    assert sender.stdout is not None
    server = make_peer_connection(LOOPBACK_ICE)
    recorder = VisitRecorder(directory, case.video)
    drains: list[FrameCounter] = []

    def on_track(track: MediaStreamTrack) -> None:
        if case.record:
            recorder.add_track("p1", "client", track)
        else:
            drains.append(FrameCounter(track))

    server.on("track", on_track)
    try:
        offer = json.loads(await sender.stdout.readline())
        await server.setRemoteDescription(RTCSessionDescription(**offer))
        await server.setLocalDescription(await server.createAnswer())
        answer = {"sdp": server.localDescription.sdp, "type": server.localDescription.type}
        sender.stdin.write(json.dumps(answer).encode() + b"\n")
        await sender.stdin.drain()
        await wait_connected(server)
        await asyncio.sleep(WARM_UP)
        cpu, wall = time.process_time(), time.monotonic()
        await asyncio.sleep(seconds)
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    finally:
        manifest = await recorder.close()
        for drain in drains:
            await drain.stop()
        await server.close()
        sender.stdin.close()
        try:
            async with asyncio.timeout(10):
                await sender.wait()
        except TimeoutError:
            sender.kill()
            await sender.wait()
    recorded = max((t.duration for t in manifest.tracks), default=0.0)
    return 100 * cpu / wall, recorded


async def run(seconds: float) -> dict[str, object]:
    results: dict[str, float] = {}
    playback: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            directory = Path(tmp) / case.name
            percent, recorded = await measure(case, seconds, directory)
            results[case.name] = round(percent, 1)
            print(f"{case.name:32s} {percent:5.1f} % of one core", flush=True)
            if case.name == "audio+vp8_webm_320x240_5fps":
                manifest = RecordingManifest.load(directory)
                started = time.monotonic()
                await asyncio.to_thread(
                    build_playback, manifest, directory, Path(tmp) / "playback.mp4"
                )
                elapsed = time.monotonic() - started
                playback["seconds_per_recorded_minute"] = round(60 * elapsed / recorded, 2)
                print(f"{'playback build':32s} {elapsed:5.2f} s for {recorded:.1f} s recorded")
    baseline = results["receive_only"]
    return {
        "seconds": seconds,
        "cpu_percent_of_one_core": results,
        "recording_cost_percent": {
            name: round(value - baseline, 1)
            for name, value in results.items()
            if name != "receive_only"
        },
        "playback_build": playback,
        "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    summary = asyncio.run(run(args.seconds))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
