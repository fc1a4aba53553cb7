"""ICE settings: configured host addresses only, no public STUN, browser config."""

from __future__ import annotations

import asyncio

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection

from signaling.ice import IceConfig, IceServer, make_peer_connection, selected_candidate_addresses
from tests.media_fixtures import (
    LOOPBACK_ICE,
    FrameCounter,
    PcmAudioTrack,
    connect,
    tone,
    wait_connected,
)


def _candidate_hosts(sdp: str) -> set[str]:
    return {line.split()[4] for line in sdp.splitlines() if line.startswith("a=candidate:")}


async def test_two_peers_connect_over_loopback_only_and_audio_flows() -> None:
    """Both peers offer only 127.0.0.1, the selected pair is loopback, and audio arrives."""
    offerer, answerer = make_peer_connection(LOOPBACK_ICE), make_peer_connection(LOOPBACK_ICE)
    received: list[FrameCounter] = []
    answerer.on("track", lambda track: received.append(FrameCounter(track)))
    offerer.addTrack(PcmAudioTrack(tone(440, 5)))
    try:
        await connect(offerer, answerer)
        await wait_connected(offerer, answerer)
        assert _candidate_hosts(offerer.localDescription.sdp) == {"127.0.0.1"}
        assert _candidate_hosts(answerer.localDescription.sdp) == {"127.0.0.1"}
        for pc in (offerer, answerer):
            pairs = selected_candidate_addresses(pc)
            assert pairs
            assert all(local[0] == remote[0] == "127.0.0.1" for local, remote in pairs)
        await asyncio.sleep(1.0)
        assert len(received) == 1
        assert received[0].frames >= 25  # 20 ms frames: at least half a second of audio
    finally:
        for counter in received:
            await counter.stop()
        await offerer.close()
        await answerer.close()


def test_no_stun_server_is_configured_unless_set() -> None:
    """The aiortc configuration lists no ICE server by default (aiortc would ask Google's)."""
    assert LOOPBACK_ICE.to_rtc_configuration().iceServers == []


def test_browser_config_carries_the_configured_servers() -> None:
    """to_browser_config() is the dict `new RTCPeerConnection(...)` takes."""
    ice = IceConfig(
        host_addresses=("203.0.113.7",),
        ice_servers=(
            IceServer(urls=("stun:stun.example.org:3478",)),
            IceServer(urls=("turn:turn.example.org:3478",), username="u", credential="c"),
        ),
    )
    assert ice.to_browser_config() == {
        "iceServers": [
            {"urls": ["stun:stun.example.org:3478"]},
            {"urls": ["turn:turn.example.org:3478"], "username": "u", "credential": "c"},
        ]
    }
    assert LOOPBACK_ICE.to_browser_config() == {"iceServers": []}


@pytest.mark.parametrize(
    "ice",
    [
        IceConfig(host_addresses=("localhost",)),
        IceConfig(host_addresses=("127.0.0.1",), ice_servers=(IceServer(urls=("http://x",)),)),
        IceConfig(host_addresses=("127.0.0.1",), ice_servers=(IceServer(urls=()),)),
    ],
)
def test_bad_settings_are_refused_when_the_peer_is_made(ice: IceConfig) -> None:
    """A host name, a non-STUN/TURN URL or an empty URL list is a configuration error."""
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        make_peer_connection(ice)


async def test_pinning_does_not_leak_into_other_peer_connections() -> None:
    """A plain RTCPeerConnection made after a pinned one still gathers aioice's own addresses."""
    pinned = make_peer_connection(LOOPBACK_ICE)
    plain = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        for pc in (pinned, plain):
            pc.addTransceiver("audio")
            await pc.setLocalDescription(await pc.createOffer())
        assert _candidate_hosts(pinned.localDescription.sdp) == {"127.0.0.1"}
        assert "127.0.0.1" not in _candidate_hosts(plain.localDescription.sdp)
    finally:
        await pinned.close()
        await plain.close()
