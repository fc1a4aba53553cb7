"""Driving the visit pages in Debian's headless Chromium through Playwright.

Chromium gets fake camera and microphone devices (the microphone can play a speech file),
may autoplay, and may use loopback for WebRTC; tests run in a loopback-only network
namespace (tests/netns.py). Screenshots go to $VV_TEST_ARTIFACTS (default test-artifacts/).
Loaded as a pytest plugin from conftest.py, so its fixtures serve every browser test.
"""

from __future__ import annotations

import contextlib
import os
import socket
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiohttp import DummyCookieJar
from aiohttp.test_utils import TestClient
from playwright.async_api import (
    BrowserContext,
    ConsoleMessage,
    Page,
    Response,
    async_playwright,
    expect,
)

from run import build_app
from tests.databases import ENGINES
from tests.live import LIVE_SETTINGS
from tests.media_fixtures import RATE, read_mono
from transcription.samples import Sample
from visits.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("VV_TEST_CHROMIUM", "/usr/bin/chromium")
# The pages behave the same on either database; the API and media tests cover both engines,
# so each browser test runs once, on the first engine configured (SQLite by default).
ONE_ENGINE = pytest.mark.parametrize("database_url", ENGINES[:1], indirect=True)
PHONE = {"width": 360, "height": 800}
DESKTOP = {"width": 1280, "height": 900}
# Generous: two cores shared with other work, and Chromium is slow to start on them.
TIMEOUT_MS = 30_000
expect.set_options(timeout=TIMEOUT_MS)

# Flags measured in the design notes: fake devices without a permission prompt, autoplay,
# loopback WebRTC, and none of Chromium's own traffic.
BASE_FLAGS = (
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    "--allow-loopback-in-peer-connection",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    "--no-sandbox",
)


def artifacts_dir() -> Path:
    """Where screenshots are kept for people to look at after a run."""
    directory = Path(os.environ.get("VV_TEST_ARTIFACTS") or ROOT / "test-artifacts")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def chromium_flags(fake_audio: Path | None = None) -> list[str]:
    flags = list(BASE_FLAGS)
    if fake_audio is not None:
        # %noloop: play the file once, then silence (the default loops it).
        flags.append(f"--use-file-for-fake-audio-capture={fake_audio.resolve()}%noloop")
    return flags


def speech_wav(sample: Sample, path: Path, lead_silence: float) -> Path:
    """A shipped speech sample as a 48 kHz mono 16-bit WAV for Chromium's fake microphone,
    after `lead_silence` seconds of silence (the fake microphone starts playing when the
    page first asks for it, which is some time before the call connects)."""
    voice = read_mono(sample.path)
    samples = np.concatenate([np.zeros(round(lead_silence * RATE), np.float32), voice])
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


@dataclass
class PageLog:
    """What a page said on its console and which of its scripts failed."""

    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> Page:
        def on_console(message: ConsoleMessage) -> None:
            self.console.append(f"{message.type}: {message.text}")

        def on_response(response: Response) -> None:
            if response.status >= 400:
                self.failed_requests.append(f"{response.status} {response.url}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("response", on_response)
        return page


@contextlib.asynccontextmanager
async def chromium(
    *, fake_audio: Path | None = None, viewport: dict[str, int] | None = None, **options: Any
) -> AsyncIterator[BrowserContext]:
    """A fresh headless Chromium with one browser context; closed (process ended) on exit."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=chromium_flags(fake_audio),
            timeout=TIMEOUT_MS * 2,
        )
        try:
            context = await browser.new_context(viewport=viewport or PHONE, **options)
            context.set_default_timeout(TIMEOUT_MS)
            yield context
            await context.close()
        finally:
            await browser.close()


async def screenshot(page: Page, name: str) -> Path:
    """Keep what the page looks like now as an artifact of the test run."""
    path = artifacts_dir() / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def site(aiohttp_client, settings: Settings) -> AsyncIterator[TestClient]:  # type: ignore[no-untyped-def]
    """The service on a fixed loopback port whose links point at itself, set up for live
    visits over loopback; stopped (every visit ended) after the test."""
    port = free_port()
    app = build_app(
        settings.model_copy(
            update=LIVE_SETTINGS | {"port": port, "base_url": f"http://127.0.0.1:{port}"}
        )
    )
    client = await aiohttp_client(
        app, cookie_jar=DummyCookieJar(), server_kwargs={"host": "127.0.0.1", "port": port}
    )
    yield client
    await client.close()
