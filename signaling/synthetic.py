"""Synthetic participants of a live visit: a signaling WebSocket plus an aiortc peer that plays
known speech and a test pattern, as a phone would. The demo, the tests and the benchmarks use
them to drive the real server."""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import time
from typing import Any

import aiohttp
import av
import numpy as np
from aiortc import MediaStreamTrack, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from signaling.ice import IceConfig, make_peer_connection

RATE = 48000
LOOPBACK_ICE = IceConfig(host_addresses=("127.0.0.1",))
_AUDIO_PTIME = 0.020
_VIDEO_TIME_BASE = fractions.Fraction(1, 90000)


def read_speech(path: str, lead_silence: float = 2.0) -> np.ndarray:
    """A speech file as int16 mono 48 kHz after `lead_silence` seconds of silence (a fake
    microphone starts before the call connects)."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
    chunks = [np.zeros(round(lead_silence * RATE), np.int16)]
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            frame.pts = None
            chunks.extend(f.to_ndarray()[0] for f in resampler.resample(frame))
    chunks.extend(f.to_ndarray()[0] for f in resampler.resample(None))
    return np.concatenate(chunks).astype(np.int16)


class PcmAudioTrack(MediaStreamTrack):
    """Plays int16 mono 48 kHz samples in real time, then silence, like a live microphone.

    `skip=(at, length)` stops sending for `length` seconds at source time `at` while the clock
    (and the pts) move on: what packet loss looks like to the receiver.
    """

    kind = "audio"

    def __init__(self, samples: np.ndarray, *, skip: tuple[float, float] | None = None) -> None:
        super().__init__()
        self._samples = samples.astype(np.int16)
        self._skip = skip
        self._pts = 0
        self._start: float | None = None
        self.first_frame_at: float | None = None

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        samples_per_frame = int(RATE * _AUDIO_PTIME)
        if self._skip is not None and self._pts >= self._skip[0] * RATE:
            self._pts += round(self._skip[1] * RATE)
            self._skip = None
        if self._start is None:
            self._start = time.time()
            self.first_frame_at = self._start
        else:
            await asyncio.sleep(max(0.0, self._start + self._pts / RATE - time.time()))
        chunk = self._samples[self._pts : self._pts + samples_per_frame]
        if len(chunk) < samples_per_frame:
            chunk = np.concatenate([chunk, np.zeros(samples_per_frame - len(chunk), np.int16)])
        frame = av.AudioFrame.from_ndarray(chunk[np.newaxis, :], format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, RATE)
        self._pts += samples_per_frame
        return frame


class PatternVideoTrack(MediaStreamTrack):
    """640x480 frames of one colour with a moving white bar, at `fps`, 90 kHz timestamps."""

    kind = "video"

    def __init__(
        self,
        *,
        color: tuple[int, int, int] = (200, 40, 40),
        fps: int = 20,
        size: tuple[int, int] = (640, 480),
    ) -> None:
        super().__init__()
        self._fps = fps
        width, height = size
        self._image = np.empty((height, width, 3), dtype=np.uint8)
        self._image[:] = color
        self._index = 0
        self._start: float | None = None

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.time()
        else:
            await asyncio.sleep(max(0.0, self._start + self._index / self._fps - time.time()))
        image = self._image.copy()
        x = (self._index * 8) % (image.shape[1] - 40)
        image[:, x : x + 40] = 255
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = round(self._index / self._fps / _VIDEO_TIME_BASE)
        frame.time_base = _VIDEO_TIME_BASE
        self._index += 1
        return frame


class VisitParticipant:
    """One person in a visit, seen from their side of the WebSocket."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        hello: dict[str, Any],
        *,
        cookie: str = "",
    ) -> None:
        self.http = session
        self.base_url = base_url.rstrip("/")
        self.hello = hello
        self.cookie = cookie
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._inbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._reader: asyncio.Future[None] | None = None
        self.welcome: dict[str, Any] = {}
        self.seen: list[dict[str, Any]] = []
        self._unread: list[dict[str, Any]] = []
        self.pc = None
        self.audio: PcmAudioTrack | None = None
        self.received: dict[str, int] = {"audio": 0, "video": 0}
        self._consumers: list[asyncio.Task[None]] = []
        self.connected_at: float | None = None
        self.left_at: float | None = None

    async def connect(self, **headers: str) -> None:
        """Open the WebSocket without saying hello yet."""
        if self.cookie:
            headers["Cookie"] = f"vv_session={self.cookie}"
        ws_url = self.base_url.replace("http", "ws", 1) + "/ws/visit"
        self.ws = await self.http.ws_connect(ws_url, headers=headers)
        self._reader = asyncio.ensure_future(self._read(self.ws))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Keep reading, as a browser does, so pings are answered even while nobody asks for
        a message (the server drops a socket that misses its heartbeat)."""
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                self._inbox.put_nowait(message.json())
        self._inbox.put_nowait(None)

    async def join(self) -> dict[str, Any]:
        await self.connect()
        await self.send(type="hello", **self.hello)
        self.welcome = await self.expect("welcome")
        return self.welcome

    async def send(self, **message: Any) -> None:
        assert self.ws is not None
        await self.ws.send_json(message)

    async def send_raw(self, text: str) -> None:
        assert self.ws is not None
        await self.ws.send_str(text)

    async def next_message(self, timeout: float = 20.0) -> dict[str, Any]:  # noqa: ASYNC109
        if self._unread:
            return self._unread.pop(0)
        assert self.ws is not None
        data = await asyncio.wait_for(self._inbox.get(), timeout)
        if data is None:
            self._inbox.put_nowait(None)
            raise ConnectionError("socket closed")
        self.seen.append(data)
        return data

    async def expect(self, kind: str, where: Any = None, timeout: float = 30.0) -> dict[str, Any]:  # noqa: ASYNC109
        """The next message of type `kind` (matching `where`), keeping others for later reads."""
        deadline = time.monotonic() + timeout
        skipped = []
        try:
            while True:
                message = await self.next_message(max(0.1, deadline - time.monotonic()))
                if message.get("type") == kind and (where is None or where(message)):
                    return message
                if message.get("type") == "error" and kind != "error":
                    raise AssertionError(f"server said: {message}")
                skipped.append(message)
        finally:
            self._unread = skipped + self._unread

    async def consent(self, choice: str = "accepted", language: str = "en") -> None:
        await self.send(
            type="consent",
            choice=choice,
            language=language,
            notice_version=self.welcome["consent_notice_version"],
        )

    async def waiting(self) -> list[dict[str, Any]]:
        """People in the lobby, as staff see them, once someone waits there."""
        message = await self.expect(
            "participants", lambda m: any(not p["admitted"] for p in m["participants"])
        )
        return [p for p in message["participants"] if not p["admitted"]]

    async def connect_media(self, speech: np.ndarray | None, *, video: bool = True) -> None:
        """Offer our audio (and video) plus receive slots; wait for the answer and ICE."""
        pc = make_peer_connection(LOOPBACK_ICE)
        self.pc = pc
        self.audio = PcmAudioTrack(speech if speech is not None else np.zeros(48000, np.int16))
        pc.addTransceiver(self.audio, direction="sendonly")
        if video:
            # Modest video: clients and server share one process (and 2 cores) in tests.
            pc.addTransceiver(PatternVideoTrack(fps=10, size=(320, 240)), direction="sendonly")
        for _ in range(self.welcome["max_remote"]):
            pc.addTransceiver("audio", direction="recvonly")
            pc.addTransceiver("video", direction="recvonly")

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self._consumers.append(asyncio.ensure_future(self._consume(track)))

        @pc.on("connectionstatechange")
        def on_state() -> None:
            if pc.connectionState == "connected" and self.connected_at is None:
                self.connected_at = time.time()

        await pc.setLocalDescription(await pc.createOffer())
        await self.send(type="offer", sdp=pc.localDescription.sdp)
        answer = await self.expect("answer")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
        deadline = time.monotonic() + 15
        while pc.connectionState != "connected":
            if time.monotonic() > deadline:
                raise TimeoutError(f"ICE never connected ({pc.connectionState})")
            await asyncio.sleep(0.05)

    async def _consume(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError, asyncio.CancelledError):
            while True:
                await track.recv()
                self.received[track.kind] += 1

    async def leave(self) -> None:
        """Hang up: say so, then close the peer and the socket."""
        self.left_at = time.time()
        if self.ws is not None and not self.ws.closed:
            await self.send(type="leave")
        await self.close()

    async def close(self) -> None:
        for task in self._consumers:
            task.cancel()
        await asyncio.gather(*self._consumers, return_exceptions=True)
        if self.pc is not None:
            await self.pc.close()
        if self.ws is not None and not self.ws.closed:
            await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    @property
    def connected_seconds(self) -> float:
        assert self.connected_at is not None
        assert self.left_at is not None
        return self.left_at - self.connected_at
