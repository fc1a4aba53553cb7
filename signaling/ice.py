"""ICE settings for the server's aiortc peers: which host addresses we offer, which servers we ask.

aiortc left to itself (1) asks Google's public STUN server (`RTCIceGatherer.getDefaultIceServers`
in aiortc/rtcicetransport.py, used whenever `RTCConfiguration.iceServers` is None) and (2) offers
every non-loopback interface address (`aioice.ice.get_host_addresses`, which skips 127.0.0.1 and
::1). Neither is right for us: tests and kiosks run on loopback only, and a deployment must offer
exactly the address clients can reach. aiortc has no setting for host addresses (the aiortc issues
about "127.0.0.1 candidates" / "bind to a specific interface" end with users monkeypatching
`aioice.ice.get_host_addresses` process-wide), so `make_peer_connection` scopes the override to
the one peer connection it builds instead; see `_pin_host_addresses`.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any, NamedTuple

from aioice import Candidate
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.rtcicetransport import RTCIceTransport

logger = logging.getLogger(__name__)

_ICE_URL_SCHEMES = ("stun:", "turn:", "turns:")


class IceServer(NamedTuple):
    """One STUN/TURN server, as both aiortc and browsers describe it."""

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None


class IceConfig(NamedTuple):
    """What ICE offers and asks, from settings; the same values go to the server and browsers.

    `host_addresses` are the only addresses the server binds and offers as host candidates
    (e.g. ("127.0.0.1",) in tests, the machine's reachable address in a deployment). An empty
    tuple means "let aioice pick every non-loopback interface", aioice's own behaviour.
    `ice_servers` is empty unless the deployment runs its own STUN/TURN server: the server
    never falls back to a public STUN server.
    """

    host_addresses: tuple[str, ...]
    ice_servers: tuple[IceServer, ...] = ()

    def validated(self) -> IceConfig:
        """Return self after checking every address and URL, so a bad setting fails at startup."""
        for address in self.host_addresses:
            ipaddress.ip_address(address)  # raises ValueError for anything but an IP literal
        for server in self.ice_servers:
            if not server.urls:
                raise ValueError("an ICE server needs at least one URL")
            for url in server.urls:
                if not url.startswith(_ICE_URL_SCHEMES):
                    raise ValueError(f"not a STUN/TURN URL: {url!r}")
        return self

    def to_rtc_configuration(self) -> RTCConfiguration:
        """aiortc configuration; an explicit (possibly empty) list so no default STUN is asked.

        MAX_BUNDLE: under aiortc's default BALANCED policy, answering a BUNDLE offer leaves every
        second same-kind transceiver on a transport that is then discarded (its `_bundled` flag
        is set at creation, so RTCPeerConnection.setRemoteDescription never moves it onto the
        primary transport): a relay slot after the first never connected. All media of a visit
        share one transport anyway.
        """
        return RTCConfiguration(
            bundlePolicy=RTCBundlePolicy.MAX_BUNDLE,
            iceServers=[
                RTCIceServer(urls=list(s.urls), username=s.username, credential=s.credential)
                for s in self.ice_servers
            ],
        )

    def to_browser_config(self) -> dict[str, Any]:
        """The dictionary a browser's `new RTCPeerConnection(...)` takes (JSON-serialisable)."""
        servers: list[dict[str, Any]] = []
        for server in self.ice_servers:
            entry: dict[str, Any] = {"urls": list(server.urls)}
            if server.username is not None:
                entry["username"] = server.username
            if server.credential is not None:
                entry["credential"] = server.credential
            servers.append(entry)
        return {"iceServers": servers}


class _PinnedHostPeerConnection(RTCPeerConnection):
    """An RTCPeerConnection whose ICE gatherers offer only the configured host addresses."""

    def __init__(self, ice: IceConfig) -> None:
        super().__init__(configuration=ice.to_rtc_configuration())
        self._host_addresses = ice.host_addresses

    async def setLocalDescription(
        self, sessionDescription: RTCSessionDescription | None = None
    ) -> None:
        # aiortc gathers candidates inside setLocalDescription (RTCPeerConnection.__gather), for
        # every ICE transport created so far by addTrack/addTransceiver/setRemoteDescription/
        # createDataChannel; pinning here reaches each of them before it gathers.
        if self._host_addresses:
            _pin_host_addresses(self, self._host_addresses)
        await super().setLocalDescription(sessionDescription)


def make_peer_connection(ice: IceConfig) -> RTCPeerConnection:
    """Build a peer connection that offers only `ice.host_addresses` and asks only `ice_servers`."""
    return _PinnedHostPeerConnection(ice.validated())


def _ice_transports(pc: RTCPeerConnection) -> list[RTCIceTransport]:
    transports = [t.receiver.transport.transport for t in pc.getTransceivers()]
    if pc.sctp is not None:
        transports.append(pc.sctp.transport.transport)
    return transports


def _pin_host_addresses(pc: RTCPeerConnection, host_addresses: tuple[str, ...]) -> None:
    """Make each not-yet-gathered ICE connection of `pc` bind/offer exactly `host_addresses`.

    aioice's `Connection.gather_candidates` (aioice/ice.py) computes the address list with the
    module function `get_host_addresses` and hands it to `self.get_component_candidates(
    component=..., addresses=...)`, which binds one UDP socket per address and makes the host
    candidates (and STUN/TURN candidates from those sockets). Replacing that one method on the
    instance swaps the address list and nothing else, and touches no process-wide state. The
    aioice connection is reachable only as `RTCIceGatherer._connection`, the same private
    attribute aiortc's own RTCIceTransport uses (aiortc/rtcicetransport.py). Idempotent: an
    already pinned or already gathered connection is left alone.
    """
    pinned = list(host_addresses)
    for transport in _ice_transports(pc):
        gatherer = transport.iceGatherer
        connection = gatherer._connection
        if gatherer.state != "new" or "get_component_candidates" in vars(connection):
            continue
        original = connection.get_component_candidates

        async def get_component_candidates(
            component: int,
            addresses: list[str],
            timeout: int = 5,  # noqa: ASYNC109 - aioice's own signature, passed through
            _original: Any = original,
        ) -> list[Candidate]:
            logger.debug("ICE host addresses %s (aioice discovered %s)", pinned, addresses)
            return await _original(component=component, addresses=pinned, timeout=timeout)

        connection.get_component_candidates = get_component_candidates  # type: ignore[method-assign]


def selected_candidate_addresses(
    pc: RTCPeerConnection,
) -> list[tuple[tuple[str, int], tuple[str, int]]]:
    """(local, remote) address of each ICE transport's nominated pair, for logs and tests.

    Reads aioice's `Connection._nominated` (component 1 = RTP/RTCP, aiortc uses rtcp-mux):
    aiortc exposes no public accessor for the selected pair.
    """
    pairs = []
    for transport in _ice_transports(pc):
        pair = transport.iceGatherer._connection._nominated.get(1)
        if pair is not None:
            pairs.append((pair.local_addr, pair.remote_addr))
    return pairs
