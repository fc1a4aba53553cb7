"""Participants of a live visit as tests (and the demo) drive them: a signaling WebSocket plus,
once admitted, an aiortc peer that sends known audio and video and receives the others'."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import aiohttp
import numpy as np
from aiortc import MediaStreamTrack, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from signaling.ice import IceConfig, make_peer_connection
from tests.media_fixtures import PatternVideoTrack, PcmAudioTrack

LOOPBACK_ICE = IceConfig(host_addresses=("127.0.0.1",))


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

    async def next_message(self, timeout: float = 20.0) -> dict[str, Any]:
        if self._unread:
            return self._unread.pop(0)
        assert self.ws is not None
        message = await self.ws.receive(timeout=timeout)
        if message.type != aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"socket closed: {message.type}")
        data: dict[str, Any] = message.json()
        self.seen.append(data)
        return data

    async def expect(self, kind: str, where: Any = None, timeout: float = 30.0) -> dict[str, Any]:
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

    @property
    def connected_seconds(self) -> float:
        assert self.connected_at is not None
        assert self.left_at is not None
        return self.left_at - self.connected_at
