"""A real `run.py serve` in a subprocess, for tests that kill and restart the server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerProcess:
    """Starts, kills and restarts the service on one data directory and port."""

    def __init__(self, data_dir: Path, **settings: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = (
            {k: v for k, v in os.environ.items() if not k.startswith("VV_")}
            | {
                "VV_DATA_DIR": str(data_dir),
                "VV_PORT": str(self.port),
                "VV_BOOTSTRAP_ADMIN": "false",
            }
            | {f"VV_{name.upper()}": value for name, value in settings.items()}
        )
        self.log = data_dir.parent / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "run.py", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "run.py", "serve"], cwd=ROOT, env=self.env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2):
                    return
            except (urllib.error.URLError, ConnectionError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start: {self.log.read_text()}") from None
                time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers run, files are left as they are."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
