"""The command line: its help, bad settings, and creating staff accounts."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from visits.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[1]


def run_cli(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VV_")}
    return subprocess.run(
        [sys.executable, "run.py", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        env=clean | (env or {}),
        timeout=120,
    )


def test_help_lists_every_command() -> None:
    """`run.py --help` names the commands a newcomer needs."""
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("serve", "migrate", "create-user"):
        assert command in result.stdout


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("VV_PORT", "eighty"),
        ("VV_DATABASE_URL", "mysql://localhost/visits"),
        ("VV_BASE_URL", "visits.example.org"),
        ("VV_SESSION_IDLE_MINUTES", "0"),
        ("VV_ICE_SERVERS", "http://stun.example.org"),
    ],
)
def test_bad_setting_stops_start_up_naming_the_variable(
    variable: str, value: str, tmp_path: Path
) -> None:
    """`serve` with a malformed setting exits non-zero and names the variable."""
    result = run_cli("serve", "--data-dir", str(tmp_path), env={variable: value})
    assert result.returncode == 2
    assert variable in result.stderr
    assert "Traceback" not in result.stderr


def test_settings_read_lists_from_comma_separated_variables() -> None:
    """ICE host addresses and servers can be given as comma-separated lists."""
    settings = load_settings(
        {"VV_ICE_HOST_ADDRESSES": "127.0.0.1, ::1", "VV_ICE_SERVERS": "stun:stun.example.org:3478"}
    )
    assert settings.ice_host_addresses == ["127.0.0.1", "::1"]
    assert settings.ice_servers == ["stun:stun.example.org:3478"]
    with pytest.raises(SettingsError, match="VV_PORT"):
        load_settings({"VV_PORT": "70000"})


def test_create_user_reads_the_password_from_stdin(tmp_path: Path) -> None:
    """create-user takes the password from stdin, never from the command line or echo."""
    data = str(tmp_path / "data")
    secret = "a long enough secret"
    result = run_cli(
        "create-user",
        "--role",
        "caseworker",
        "--username",
        "casey",
        "--name",
        "Casey Worker",
        "--team",
        "North",
        "--data-dir",
        data,
        stdin=secret + "\n",
    )
    assert result.returncode == 0, result.stderr
    assert secret not in result.stdout + result.stderr
    assert "created caseworker 'casey'" in result.stdout
    again = run_cli(
        "create-user",
        "--role",
        "admin",
        "--username",
        "casey",
        "--name",
        "Other",
        "--data-dir",
        data,
        stdin=secret + "\n",
    )
    assert again.returncode == 2
    assert "taken" in again.stderr


def test_create_user_refuses_weak_password_and_missing_team(tmp_path: Path) -> None:
    """Weak passwords and team-less caseworkers are refused with a clear message."""
    data = str(tmp_path / "data")
    weak = run_cli(
        "create-user",
        "--role",
        "admin",
        "--username",
        "a",
        "--name",
        "A",
        "--data-dir",
        data,
        stdin="short\n",
    )
    assert weak.returncode == 2
    assert "at least 10 characters" in weak.stderr
    teamless = run_cli(
        "create-user",
        "--role",
        "caseworker",
        "--username",
        "b",
        "--name",
        "B",
        "--data-dir",
        data,
        stdin="long enough secret\n",
    )
    assert teamless.returncode == 2
    assert "--team" in teamless.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_prints_where_to_open_it_and_a_working_first_password(tmp_path: Path) -> None:
    """A first `serve` on an empty data dir prints its URL and a one-time admin password."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VV_")}
    server = subprocess.Popen(
        [sys.executable, "run.py", "serve", "--port", str(port), "--data-dir", str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=clean,
    )
    try:
        assert server.stdout is not None
        output = ""
        while "with password" not in output and server.poll() is None:
            output += server.stdout.readline()
        assert f"open http://127.0.0.1:{port}/" in output
        password = re.search(r"as 'admin' with password (\S+)", output)
        assert password, output
        body = json.dumps({"username": "admin", "password": password.group(1)}).encode()
        for _ in range(100):
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/session",
                    data=body,
                    headers={"Content-Type": "application/json"},
                )
                with urllib.request.urlopen(request, timeout=5) as response:
                    assert json.load(response)["user"]["role"] == "admin"
                    break
            except urllib.error.URLError:
                time.sleep(0.1)
        else:
            pytest.fail("server never answered")
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout:
            server.stdout.close()
