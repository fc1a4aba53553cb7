"""How many two-party visits one server relays and records at once.

For K = 1, 2, 3, ... this starts `run.py serve` (SQLite, scratch data directory, loopback
ICE), books K visits that start now (each with its own caseworker), and holds them with
synthetic aiortc participants in separate worker processes, so client CPU is not counted as
server CPU. Every participant consents (so the server records everyone) and sends Opus audio
and, in video mode, 640x480 VP8 at --fps with its send time stamped into the pixels. After a
warm-up, over a --duration window, it measures:
  server CPU   utime+stime of the server process, as % of one core, per visit;
  delivery     per stream, frames the receiver got from its peer / frames the peer sent:
               video frames matched by their stamp, audio frames by their RTP timestamps
               (a frame sent in the window counts however late it arrives);
  latency      receive time - stamped send time of video frames (p50/p95, one clock).
A K passes when every stream keeps at least 90% of its frames and every participant's audio
(and video) recording was written. The ramp stops at the first
failing K (or --max-k); the same runs for audio-only visits. Last line: one JSON object.

    python benchmarks/visit_capacity.py [--duration 15] [--max-k 8] [--fps 15]
        [--modes video,audio]
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiortc import MediaStreamTrack  # noqa: E402
from aiortc.mediastreams import MediaStreamError  # noqa: E402

from benchmarks.booking import Server  # noqa: E402
from signaling.synthetic import VisitParticipant  # noqa: E402
from transcription.demo import DemoVisit, book_demo_visit  # noqa: E402
from visits.db import Database  # noqa: E402
from visits.migrate import ensure_schema  # noqa: E402

PASS_SHARE = 0.90
WARM_UP_SECONDS = 4.0
WORKERS = 2
AUDIO_PTIME = 0.020
BITS, COLUMNS = 48, 24  # send time in ms, as 2 rows of 24 black/white blocks
_TIME_BASE = fractions.Fraction(1, 90000)


class StampedVideoTrack(MediaStreamTrack):
    """640x480 frames at `fps` whose top rows carry the send time, and a count of frames sent."""

    kind = "video"

    def __init__(self, fps: int, size: tuple[int, int] = (640, 480)) -> None:
        super().__init__()
        self.fps = fps
        width, height = size
        self._image = np.full((height, width, 3), 90, dtype=np.uint8)
        self._block = width // COLUMNS
        self._index = 0
        self._start: float | None = None
        self.sent: list[float] = []

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.time()
        else:
            await asyncio.sleep(max(0.0, self._start + self._index / self.fps - time.time()))
        now = time.time()
        image = self._image.copy()
        stamp = int(now * 1000)
        b = self._block
        for bit in range(BITS):
            row, column = divmod(bit, COLUMNS)
            value = 255 if stamp >> bit & 1 else 0
            image[row * b : (row + 1) * b, column * b : (column + 1) * b] = value
        x = (self._index * 8) % (image.shape[1] - 40)
        image[2 * b + 20 :, x : x + 40] = 255  # motion, so the encoder has work to do
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = round(self._index / self.fps / _TIME_BASE)
        frame.time_base = _TIME_BASE
        self._index += 1
        self.sent.append(now)
        return frame


def read_stamp(frame: av.VideoFrame) -> float | None:
    """The send time stamped into a received frame, or None if it does not read back."""
    gray = frame.to_ndarray(format="gray")
    b = gray.shape[1] // COLUMNS
    stamp = 0
    for bit in range(BITS):
        row, column = divmod(bit, COLUMNS)
        if gray[row * b + b // 2, column * b + b // 2] > 128:
            stamp |= 1 << bit
    seconds = stamp / 1000
    return seconds if abs(seconds - time.time()) < 60 else None


class Side:
    """One participant of a visit and what it sent and received."""

    def __init__(self, participant: VisitParticipant, video: StampedVideoTrack | None) -> None:
        self.participant = participant
        self.video = video
        self.audio_received: list[tuple[float, float | None]] = []  # (arrival, pts seconds)
        self.video_received: list[tuple[float, float | None]] = []

    def on_frame(self, kind: str, frame: Any) -> None:
        now = time.time()
        if kind == "audio":
            pts = None if frame.pts is None else float(frame.pts * frame.time_base)
            self.audio_received.append((now, pts))
        else:
            self.video_received.append((now, read_stamp(frame)))


async def hold(base_url: str, visit: DemoVisit, video: bool, fps: int, http: Any) -> list[Side]:
    """Join, consent, admit and connect both sides of one visit."""
    response = await http.post(
        f"{base_url}/api/session",
        json={"username": visit.caseworker_username, "password": visit.caseworker_password},
    )
    response.raise_for_status()
    cookie = response.cookies["vv_session"].value
    worker = VisitParticipant(http, base_url, {"booking_id": str(visit.booking_id)}, cookie=cookie)
    person = VisitParticipant(http, base_url, {"token": visit.client_token})
    await worker.join()
    await worker.consent()
    await person.join()
    await person.consent()
    waiting = await worker.waiting()
    await worker.send(type="admit", participant_id=waiting[0]["participant_id"])
    await person.expect("admitted")
    sides = [
        Side(worker, StampedVideoTrack(fps) if video else None),
        Side(person, StampedVideoTrack(fps) if video else None),
    ]
    noise = (np.random.default_rng(1).standard_normal(48000 * 5) * 3000).astype(np.int16)
    await asyncio.gather(
        *(
            side.participant.connect_media(noise, video=side.video or False, on_frame=side.on_frame)
            for side in sides
        )
    )
    return sides


def audio_stream(
    received: list[tuple[float, float | None]], window: tuple[float, float]
) -> dict[str, Any]:
    """Audio frames sent in the window that arrived, however late (as for video).

    Audio carries no stamp, but its RTP timestamps run with the sender's clock (the relay passes
    frames one by one, buffered), so send time = timestamp + an offset, taken from the frame
    that arrived fastest. A timestamp missing in the window is a lost frame."""
    start, end = window
    in_window = round((end - start) / AUDIO_PTIME)
    frames = [(at, pts) for at, pts in received if pts is not None]
    if not frames:
        return {"kind": "audio", "sent": in_window, "received": 0, "latency": []}
    offset = min(at - pts for at, pts in frames)
    slots = {round(pts / AUDIO_PTIME) for _, pts in frames if start <= offset + pts < end}
    received_count = min(len(slots), in_window)  # window edges may round to one slot more
    return {"kind": "audio", "sent": in_window, "received": received_count, "latency": []}


def video_stream(
    sent: list[float], received: list[tuple[float, float | None]], window: tuple[float, float]
) -> dict[str, Any]:
    """Match received frames to sent ones by their stamp: a frame sent in the window counts
    once however late it arrives, and a stamp that does not read back counts as lost."""
    start, end = window
    sent_stamps = {int(at * 1000) for at in sent if start <= at < end}
    arrivals: dict[int, float] = {}
    for at, stamp in received:
        if stamp is not None:
            arrivals.setdefault(round(stamp * 1000), at)
    matched = sent_stamps & arrivals.keys()
    return {
        "kind": "video",
        "sent": len(sent_stamps),
        "received": len(matched),
        "latency": [arrivals[ms] - ms / 1000 for ms in matched],
        "unreadable": sum(1 for at, stamp in received if stamp is None and start <= at < end),
    }


async def worker_main(
    base_url: str, visits: list[DemoVisit], video: bool, fps: int, ready: Any, windows: Any
) -> list[dict[str, Any]]:
    """Connect our visits, say so, and measure over the window the parent then picks (once
    every worker is connected, however long that took on a busy machine)."""
    async with aiohttp.ClientSession() as http:
        held = await asyncio.gather(*(hold(base_url, v, video, fps, http) for v in visits))
        ready.put(len(held))
        # Wait in a thread, so the media keeps flowing on this loop.
        window = await asyncio.to_thread(windows.get, True, 600)
        await asyncio.sleep(max(0.0, window[1] - time.time()) + 1.0)
        streams = []
        for sides in held:
            for sender, receiver in (sides, sides[::-1]):
                streams.append(audio_stream(receiver.audio_received, window))
                if sender.video is not None:
                    streams.append(video_stream(sender.video.sent, receiver.video_received, window))
        for sides in held:
            for side in sides:
                await side.participant.leave()
    return streams


def run_worker(
    base_url: str,
    visits: list[DemoVisit],
    video: bool,
    fps: int,
    queues: tuple[Any, Any, Any],
) -> None:
    ready, windows, results = queues
    results.put(asyncio.run(worker_main(base_url, visits, video, fps, ready, windows)))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def recorded_files(directory: Path) -> dict[str, int]:
    """Non-empty finished recording files by kind, so a K whose recorder fell behind (or never
    started) does not pass as cheap."""
    files = [f for f in directory.rglob("*") if f.is_file() and f.stat().st_size > 0]
    return {
        "audio": sum(1 for f in files if f.suffix == ".ogg"),
        "video": sum(1 for f in files if f.suffix in (".webm", ".mkv")),
    }


async def run_k(k: int, video: bool, fps: int, duration: float, work: Path) -> dict[str, Any]:
    server = Server("sqlite", work)
    server.env |= {"VV_ICE_HOST_ADDRESSES": "127.0.0.1", "VV_VISIT_EMPTY_GRACE_SECONDS": "0"}
    db = Database(server.database_url)
    try:
        await ensure_schema(db.engine)
        visits = [await book_demo_visit(db) for _ in range(k)]
    finally:
        await db.close()
    await server.start()
    assert server.process is not None
    try:
        context = multiprocessing.get_context("spawn")
        ready, windows, results = context.Queue(), context.Queue(), context.Queue()
        workers = [
            context.Process(
                target=run_worker,
                args=(server.url, visits[i::WORKERS], video, fps, (ready, windows, results)),
            )
            for i in range(min(WORKERS, k))
        ]
        for process in workers:
            process.start()
        for _ in workers:
            await asyncio.to_thread(ready.get, True, 300)
        start = time.time() + WARM_UP_SECONDS
        window = (start, start + duration)
        for _ in workers:
            windows.put(window)
        await asyncio.sleep(max(0.0, start - time.time()))
        cpu_before = cpu_seconds(server.process.pid)
        clients_before = sum(cpu_seconds(w.pid) for w in workers if w.pid)
        await asyncio.sleep(duration)
        cpu = (cpu_seconds(server.process.pid) - cpu_before) / duration * 100
        clients_after = sum(cpu_seconds(w.pid) for w in workers if w.pid)
        clients_cpu = (clients_after - clients_before) / duration
        streams = [s for _ in workers for s in await asyncio.to_thread(results.get, True, 300)]
        for process in workers:
            process.join(timeout=60)
    finally:
        await server.stop()
    recorded = recorded_files(work / "recordings")
    expected = {"audio": 2 * k, "video": 2 * k if video else 0}
    shares = [s["received"] / s["sent"] if s["sent"] else 0.0 for s in streams]
    by_kind = {
        kind: [x for x, s in zip(shares, streams, strict=True) if s["kind"] == kind]
        for kind in ("audio", "video")
    }
    latencies = [x for s in streams for x in s["latency"]]
    return {
        "k": k,
        "server_cpu_percent": round(cpu, 1),
        "cpu_percent_per_visit": round(cpu / k, 1),
        # Clients share the machine: a busy one delays frames as a busy server would.
        "client_processes_cpu_percent": round(clients_cpu * 100, 1),
        "min_delivered": round(min(shares), 3),
        "mean_delivered": round(statistics.fmean(shares), 3),
        **{f"min_delivered_{kind}": round(min(x), 3) for kind, x in by_kind.items() if x},
        "video_latency_ms_p50": round(1000 * statistics.median(latencies), 1)
        if latencies
        else None,
        "video_latency_ms_p95": (
            round(1000 * statistics.quantiles(latencies, n=20)[18], 1)
            if len(latencies) > 20
            else None
        ),
        "unreadable_video_frames": sum(s.get("unreadable", 0) for s in streams),
        "recorded_files": recorded,
        "recordings_complete": recorded == expected,
        "passed": min(shares) >= PASS_SHARE and recorded == expected,
    }


async def ramp(mode: str, args: argparse.Namespace) -> dict[str, Any]:
    runs = []
    for k in args.k_values:
        if k > args.max_k:
            break
        with tempfile.TemporaryDirectory(prefix="vv-capacity-") as scratch:
            result = await run_k(k, mode == "video", args.fps, args.duration, Path(scratch))
        runs.append(result)
        print(
            f"{mode:5} K={k:2}: server CPU {result['server_cpu_percent']:6.1f}% "
            f"({result['cpu_percent_per_visit']:.1f}% per visit), delivered min "
            f"{result['min_delivered']:.1%} mean {result['mean_delivered']:.1%}, "
            f"video latency p50 {result['video_latency_ms_p50']} ms "
            f"p95 {result['video_latency_ms_p95']} ms, recorded {result['recorded_files']}",
            flush=True,
        )
        if not result["passed"]:
            break
    passing = [r["k"] for r in runs if r["passed"]]
    return {"max_k": max(passing) if passing else 0, "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=15.0, help="measured seconds per K")
    parser.add_argument("--max-k", type=int, default=8, help="largest K tried")
    parser.add_argument("--fps", type=int, default=15, help="video frames per second sent")
    parser.add_argument("--modes", default="video,audio", help="video and/or audio (only)")
    parser.add_argument(
        "--k-values",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[1, 2, 3, 4, 5, 6, 8, 10, 12, 16],
        help="K values to try, in order",
    )
    args = parser.parse_args()
    figures: dict[str, Any] = {"cpu_count": os.cpu_count(), "fps": args.fps, "size": "640x480"}
    for mode in args.modes.split(","):
        figures[mode] = asyncio.run(ramp(mode, args))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
