"""Real media for tests: synthetic aiortc tracks, speech, loopback peers, audio comparison.

Also runnable as a child process (`python -m tests.media_fixtures record DIR` or `send`), so a
test can SIGKILL a recorder and a benchmark can keep the sender's CPU out of its measurement.
Signaling between parent and child is one JSON session description per line on stdin/stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import shutil
import subprocess
import sys
import time
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from signaling.ice import make_peer_connection
from signaling.recording import VideoRecordingOptions, VisitRecorder
from signaling.synthetic import LOOPBACK_ICE, RATE, PatternVideoTrack, PcmAudioTrack

logger = logging.getLogger(__name__)


def tone(frequency: float, seconds: float, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    return (np.sin(2 * np.pi * frequency * t) * amplitude * 32767).astype(np.int16)


def speech(
    directory: Path, text: str, *, lead_silence: float = 2.0, voice: str = "en-us"
) -> np.ndarray:
    """Speech from espeak-ng as int16 mono 48 kHz, after `lead_silence` seconds of silence."""
    espeak, sox = shutil.which("espeak-ng"), shutil.which("sox")
    if espeak is None or sox is None:
        raise RuntimeError("espeak-ng and sox (Debian packages) are needed to make test speech")
    raw, out = directory / f"speech-{voice}-raw.wav", directory / f"speech-{voice}.wav"
    subprocess.run([espeak, "-v", voice, "-s", "150", "-w", str(raw), text], check=True)
    subprocess.run(
        [sox, str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(out), "pad", str(lead_silence)],
        check=True,
    )
    with wave.open(str(out), "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).copy()


def read_mono(path: Path) -> np.ndarray:
    """Decode an audio file to float32 mono 48 kHz in [-1, 1]."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
    chunks = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            frame.pts = None
            chunks.extend(f.to_ndarray()[0] for f in resampler.resample(frame))
    chunks.extend(f.to_ndarray()[0] for f in resampler.resample(None))
    return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)


def best_match(recorded: np.ndarray, template: np.ndarray) -> tuple[float, float]:
    """Peak normalized cross-correlation of `template` inside `recorded`, and its lag in s.

    1.0 means the recording contains the template sample for sample (up to gain); unrelated
    audio scores near 0.
    """
    recorded = recorded.astype(np.float64)
    template = template.astype(np.float64)
    size = len(recorded) + len(template)
    nfft = 1 << (size - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(recorded, nfft) * np.conj(np.fft.rfft(template, nfft)), nfft)
    valid = len(recorded) - len(template) + 1
    if valid <= 0:
        return 0.0, 0.0
    corr = corr[:valid]
    energy = np.cumsum(np.concatenate([[0.0], recorded**2]))
    window = energy[len(template) :] - energy[:valid]
    ncc = corr / (np.linalg.norm(template) * np.sqrt(np.maximum(window, 1e-12)))
    best = int(np.argmax(ncc))
    return float(ncc[best]), best / RATE


async def connect(offerer: RTCPeerConnection, answerer: RTCPeerConnection) -> None:
    """Offer/answer between two in-process peers (aiortc gathers fully, no trickle)."""
    await offerer.setLocalDescription(await offerer.createOffer())
    await answerer.setRemoteDescription(offerer.localDescription)
    await answerer.setLocalDescription(await answerer.createAnswer())
    await offerer.setRemoteDescription(answerer.localDescription)


async def wait_connected(*pcs: RTCPeerConnection, within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while any(pc.connectionState != "connected" for pc in pcs):
            if any(pc.connectionState in ("failed", "closed") for pc in pcs):
                raise ConnectionError("peer connection failed")
            await asyncio.sleep(0.02)


class FrameCounter:
    """Reads a received track to its end (unread tracks queue without bound), counting frames."""

    def __init__(self, track: MediaStreamTrack) -> None:
        self.frames = 0
        self._track = track
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                await self._track.recv()
                self.frames += 1

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.wait([self._task])


@dataclass
class Party:
    """One participant of an in-process visit: its browser-like client peer and our server peer."""

    participant_id: str
    role: str
    tracks: list[MediaStreamTrack]
    client: RTCPeerConnection = field(default_factory=lambda: make_peer_connection(LOOPBACK_ICE))
    server: RTCPeerConnection = field(default_factory=lambda: make_peer_connection(LOOPBACK_ICE))
    received: list[FrameCounter] = field(default_factory=list)
    connected_at: float = 0.0

    async def hang_up(self) -> None:
        """What a browser closing its page does: close the client peer."""
        await self.client.close()


@contextlib.asynccontextmanager
async def relayed_visit(
    recorder: VisitRecorder, parties: list[Party]
) -> AsyncIterator[list[Party]]:
    """Connect every party to the server, relay each party's tracks to the others, record all.

    The server side is what the signaling session will do: each received track goes to the
    recorder through its own MediaRelay proxy and to every other party through another one
    (unbuffered for video, so a slow encoder gets the newest frame instead of a backlog).
    Everything started here is closed on exit.
    """
    relay = MediaRelay()
    remote: dict[str, list[MediaStreamTrack]] = {p.participant_id: [] for p in parties}

    def on_server_state(party: Party) -> None:
        if party.server.connectionState == "connected" and not party.connected_at:
            party.connected_at = time.time()

    def on_server_track(party: Party, track: MediaStreamTrack) -> None:
        remote[party.participant_id].append(track)
        recorder.add_track(party.participant_id, party.role, relay.subscribe(track))

    try:
        for party in parties:
            for track in party.tracks:
                party.client.addTrack(track)
            for kind in {"audio", "video"} - {t.kind for t in party.tracks}:
                # No camera (or microphone) still means receiving the others' (a browser does
                # the same), and keeps the one offer/answer enough for everyone's tracks.
                party.client.addTransceiver(kind, direction="recvonly")
            party.client.on("track", lambda t, p=party: p.received.append(FrameCounter(t)))
            party.server.on("track", lambda t, p=party: on_server_track(p, t))
            party.server.on("connectionstatechange", lambda p=party: on_server_state(p))
            await party.client.setLocalDescription(await party.client.createOffer())
            await party.server.setRemoteDescription(party.client.localDescription)
        for party in parties:
            for other in parties:
                if other is not party:
                    for track in remote[other.participant_id]:
                        party.server.addTrack(
                            relay.subscribe(track, buffered=track.kind == "audio")
                        )
            await party.server.setLocalDescription(await party.server.createAnswer())
            await party.client.setRemoteDescription(party.server.localDescription)
        for party in parties:
            await wait_connected(party.client, party.server)
        yield parties
    finally:
        for party in parties:
            for counter in party.received:
                await counter.stop()
            await party.client.close()
            await party.server.close()
            for track in party.tracks:
                track.stop()


# -- child processes -------------------------------------------------------------------------


def _description(line: str) -> RTCSessionDescription:
    data = json.loads(line)
    return RTCSessionDescription(sdp=data["sdp"], type=data["type"])


def _emit(**data: object) -> None:
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


async def _stdin_lines() -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        yield line


async def _run_recorder(directory: Path, video: bool) -> None:
    """Answer one offer and record the offerer as `p1` until stdin closes ("pause"/"resume")."""
    options = VideoRecordingOptions(enabled=video)
    recorder = VisitRecorder(directory, options)
    pc = make_peer_connection(LOOPBACK_ICE)
    pc.on("track", lambda track: recorder.add_track("p1", "client", track))
    lines = _stdin_lines()
    try:
        await pc.setRemoteDescription(_description(await anext(lines)))
        await pc.setLocalDescription(await pc.createAnswer())
        _emit(sdp=pc.localDescription.sdp, type=pc.localDescription.type)
        await wait_connected(pc)
        _emit(event="connected", at=time.time())
        async for line in lines:
            if line.strip() == "pause":
                recorder.pause()
            elif line.strip() == "resume":
                recorder.resume()
            _emit(event=line.strip(), at=time.time())
    finally:
        manifest = await recorder.close()
        await pc.close()
        _emit(event="closed", tracks=len(manifest.tracks))


async def _run_sender(video: bool, fps: int) -> None:
    """Offer a tone (and video) and send until stdin closes."""
    pc = make_peer_connection(LOOPBACK_ICE)
    audio = PcmAudioTrack(tone(440, 3600))
    pc.addTrack(audio)
    if video:
        pc.addTrack(PatternVideoTrack(fps=fps))
    lines = _stdin_lines()
    try:
        await pc.setLocalDescription(await pc.createOffer())
        _emit(sdp=pc.localDescription.sdp, type=pc.localDescription.type)
        await pc.setRemoteDescription(_description(await anext(lines)))
        await wait_connected(pc)
        _emit(event="connected", at=time.time())
        async for _ in lines:
            pass
    finally:
        await pc.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.media_fixtures")
    commands = parser.add_subparsers(dest="command", required=True)
    record = commands.add_parser("record", help="answer an offer on stdin and record it")
    record.add_argument("directory", type=Path)
    record.add_argument("--video", action="store_true")
    send = commands.add_parser("send", help="offer a tone (+ video) and send it")
    send.add_argument("--video", action="store_true")
    send.add_argument("--fps", type=int, default=20)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if args.command == "record":
        asyncio.run(_run_recorder(args.directory, args.video))
    else:
        asyncio.run(_run_sender(args.video, args.fps))


if __name__ == "__main__":
    main()
