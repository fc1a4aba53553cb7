"""Running browser tests in a network namespace that has only the loopback interface.

Chromium gathers ICE candidates on every interface it sees; in a namespace with nothing but
`lo` it can only talk to our server over 127.0.0.1, as the test intends, and nothing in the
test can reach (or be reached from) the outside. Tests marked `browser` therefore run in a
child pytest started as `unshare --net` (with `ip link set lo up` first): this plugin replaces
each such test, outside the namespace, by an item that runs exactly that test in the child.

PostgreSQL listens on the host's loopback, which the namespace does not share. Unix sockets
are files, not network endpoints, so they cross the boundary: the parent relays a socket
file to PostgreSQL's TCP port and the child listens on the same TCP port of its own loopback
and relays to that file. Test code and URLs stay the same on both sides.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.databases import ENGINES, POSTGRES_ADMIN_URL

MARKER = "browser"
PG_SOCKET_ENV = "VV_TEST_PG_RELAY_SOCKET"
CHILD_TIMEOUT_SECONDS = 900


CHILD_ENV = "VV_TEST_IN_NETNS"


def in_loopback_namespace() -> bool:
    """True when the only network interface of this process's namespace is `lo`.

    (Not /sys/class/net: sysfs shows the namespace that mounted it, not ours.)
    """
    return [name for _, name in socket.if_nameindex()] == ["lo"]


def namespace_command(argv: list[str]) -> list[str]:
    """`argv` run in a new network namespace with only loopback, up.

    As root `unshare --net` is enough; otherwise a user namespace maps us to root in it
    (this needs unprivileged user namespaces, on by default on Debian and Ubuntu).
    """
    unshare = shutil.which("unshare") or "unshare"
    ip = shutil.which("ip") or "/usr/sbin/ip"
    flags = ["--net"] if os.geteuid() == 0 else ["--user", "--map-root-user", "--net"]
    script = f'{ip} link set lo up && exec "$@"'
    return [unshare, *flags, "--", "sh", "-c", script, "sh", *argv]


# -- relaying PostgreSQL across the namespace boundary ---------------------------------------


def _pump(source: socket.socket, target: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


def _pair(accepted: socket.socket, connect: Callable[[], socket.socket]) -> None:
    try:
        upstream = connect()
    except OSError:
        accepted.close()
        return
    back = threading.Thread(target=_pump, args=(upstream, accepted), daemon=True)
    back.start()
    _pump(accepted, upstream)
    back.join()
    accepted.close()
    upstream.close()


class Relay:
    """Accepts on `listener` and copies bytes both ways to a fresh `connect()` per client."""

    def __init__(self, listener: socket.socket, connect: Callable[[], socket.socket]) -> None:
        self.listener = listener
        self.connect = connect
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                accepted, _ = self.listener.accept()
                threading.Thread(target=_pair, args=(accepted, self.connect), daemon=True).start()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.thread.join(timeout=5)


def _postgres_address() -> tuple[str, int]:
    parts = urlsplit(POSTGRES_ADMIN_URL)
    return parts.hostname or "127.0.0.1", parts.port or 5432


@contextlib.contextmanager
def postgres_socket_relay(path: Path) -> Iterator[None]:
    """Parent side: a socket file at `path` that reaches PostgreSQL's TCP port."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(64)
    relay = Relay(listener, lambda: socket.create_connection(_postgres_address(), timeout=30))
    try:
        yield
    finally:
        relay.close()


def postgres_port_relay(path: Path) -> Relay:
    """Child side: PostgreSQL's TCP port on this namespace's loopback, relayed to `path`."""

    def connect() -> socket.socket:
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        upstream.connect(str(path))
        return upstream

    listener = socket.create_server(_postgres_address(), backlog=64)
    return Relay(listener, connect)


# -- the pytest side --------------------------------------------------------------------------


class NamespacedTest(pytest.Item):
    """Stands in for one browser test: runs that test in a child pytest in a new namespace."""

    def __init__(self, *, target: str, engine: str | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target = target
        self.engine = engine
        self.output = ""

    def runtest(self) -> None:
        work = Path(tempfile.mkdtemp(prefix="vv-netns-"))
        try:
            self.output, code = self._run_child(work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        if code != 0:
            raise ChildFailed(code)

    def _run_child(self, work: Path) -> tuple[str, int]:
        env = dict(os.environ) | {CHILD_ENV: "1"}
        if self.engine is not None:
            env["VV_TEST_ENGINES"] = self.engine
        relay: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
        if "postgresql" in env.get("VV_TEST_ENGINES", ",".join(ENGINES)).split(","):
            socket_path = work / "pg.sock"
            env[PG_SOCKET_ENV] = str(socket_path)
            relay = postgres_socket_relay(socket_path)
        argv = [
            sys.executable,
            "-m",
            "pytest",
            self.target,
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(work / "tmp"),
            "-q",
            "-rA",
            "--no-header",
        ]
        with relay:
            result = subprocess.run(
                namespace_command(argv),
                cwd=self.config.rootpath,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=CHILD_TIMEOUT_SECONDS,
                check=False,
            )
        return result.stdout, result.returncode

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ChildFailed):
            return (
                f"{self.target} failed in its loopback-only network namespace "
                f"(child pytest exit code {excinfo.value.code}):\n{self.output}"
            )
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.target} (in a loopback-only network namespace)"


class ChildFailed(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Outside a loopback-only namespace, browser tests run through `NamespacedTest`."""
    if in_loopback_namespace():
        return
    if os.environ.get(CHILD_ENV):
        raise pytest.UsageError("the child pytest did not get a loopback-only network namespace")
    for index, item in enumerate(items):
        if item.get_closest_marker(MARKER) is None:
            continue
        callspec = getattr(item, "callspec", None)
        engine = callspec.params.get("database_url") if callspec is not None else None
        proxy = NamespacedTest.from_parent(
            item.parent, name=item.name, target=item.nodeid, engine=engine
        )
        proxy.own_markers.extend(item.own_markers)
        items[index] = proxy


CHILD_RELAY = pytest.StashKey[Relay]()


def pytest_configure(config: pytest.Config) -> None:
    """In the child, make PostgreSQL reachable on the namespace's own loopback."""
    path = os.environ.get(PG_SOCKET_ENV)
    if path and in_loopback_namespace():
        config.stash[CHILD_RELAY] = postgres_port_relay(Path(path))


def pytest_unconfigure(config: pytest.Config) -> None:
    relay = config.stash.get(CHILD_RELAY, None)
    if relay is not None:
        relay.close()
