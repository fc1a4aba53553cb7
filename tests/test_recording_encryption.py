"""Recordings encrypted at rest: a faithful round trip, tampering caught, and playback and
transcription reading encrypted files as if they were plain."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import uuid
from pathlib import Path

import av
import numpy as np
import pytest
from aiohttp.test_utils import TestClient

from signaling.playback import build_playback
from signaling.recording import RecordingManifest, TrackRecord, media_duration
from tests.records import data_dir, office, visit_on_record
from tests.world import database
from transcription.audio import AudioError, load_audio
from transcription.engine import load_engine
from transcription.samples import sample
from transcription.wer import word_error_rate
from visits import crypto
from visits.audit_verify import verify
from visits.crypto import (
    EncryptedReader,
    EncryptionError,
    encrypt_file,
    is_encrypted,
    open_plain,
    plain_sha256,
)
from visits.settings import SettingsError, load_settings

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


@pytest.mark.parametrize("size", [0, 1, 99, 100, 101, 1000, 1234])
def test_round_trip_gives_back_every_byte(tmp_path: Path, size: int) -> None:
    """Any length (empty, within, on and across chunk edges) decrypts to the same bytes,
    and reads from any offset give the right slice."""
    data = os.urandom(size)
    path = tmp_path / "track.ogg"
    path.write_bytes(data)
    assert encrypt_file(path, KEY, chunk_size=100)
    assert is_encrypted(path)
    assert size < 16 or data[:16] not in path.read_bytes()
    assert not encrypt_file(path, KEY, chunk_size=100)  # already encrypted: left alone
    with open_plain(path, KEY) as file:
        assert file.read() == data
        for offset in (0, size // 3, max(0, size - 7), size):
            file.seek(offset)
            assert file.read(150) == data[offset : offset + 150]
    assert plain_sha256(path, KEY) == hashlib.sha256(data).hexdigest()


def test_tampering_is_detected(tmp_path: Path) -> None:
    """A flipped byte, swapped chunks, a cut-off end or a dropped final chunk fail to read;
    so does the wrong key."""
    data = os.urandom(1000)
    original = tmp_path / "original"
    original.write_bytes(data)
    encrypt_file(original, KEY, chunk_size=100)
    sealed = original.read_bytes()
    header, record = 20, 12 + 100 + 16

    def reads(content: bytes) -> str:
        path = tmp_path / "altered"
        path.write_bytes(content)
        with pytest.raises(EncryptionError) as error:
            plain_sha256(path, KEY)
        return str(error.value)

    flipped = bytearray(sealed)
    flipped[header + record * 3 + 40] ^= 1
    assert "chunk 3 fails authentication" in reads(bytes(flipped))
    first, second = sealed[header : header + record], sealed[header + record : header + 2 * record]
    swapped = sealed[:header] + second + first + sealed[header + 2 * record :]
    assert "chunk 0 fails authentication" in reads(swapped)
    assert "fails authentication" in reads(sealed[:-30])
    assert "fails authentication" in reads(sealed[: header + record * 5])
    path = tmp_path / "wrong-key"
    path.write_bytes(sealed)
    with pytest.raises(EncryptionError, match="another key"):
        EncryptedReader(path, OTHER_KEY)
    with pytest.raises(EncryptionError, match="no recording key"):
        open_plain(path, None)


def test_the_key_setting_is_checked_at_start_up() -> None:
    """A key that is not base64 of 32 bytes stops start-up naming VV_RECORDING_KEY."""
    for bad in ("not base64!", base64.b64encode(b"short").decode()):
        with pytest.raises(SettingsError, match="VV_RECORDING_KEY"):
            load_settings({"VV_RECORDING_KEY": bad})
    good = load_settings({"VV_RECORDING_KEY": base64.b64encode(KEY).decode()})
    assert good.recording_key_bytes == KEY
    assert base64.b64encode(KEY).decode() not in repr(good)
    assert load_settings({}).recording_key_bytes is None


def test_transcription_reads_an_encrypted_recording(tmp_path: Path) -> None:
    """The engine transcribes an encrypted clip exactly as it does the plain one."""
    clip = sample("caseworker_plan")
    plain = load_audio(clip.path)
    path = tmp_path / "clip.ogg"
    shutil.copyfile(clip.path, path)
    encrypt_file(path, KEY)
    assert np.array_equal(load_audio(path, key=KEY), plain)
    with pytest.raises(AudioError, match="encrypted"):
        load_audio(path)
    engine = load_engine()
    heard = engine.transcribe(path, key=KEY)
    assert word_error_rate(clip.text, heard.text) < 0.2


def test_playback_is_built_from_encrypted_recordings(tmp_path: Path) -> None:
    """Two encrypted voice tracks mix into a playback file as long as the later one ends."""
    directory = tmp_path / "rec"
    directory.mkdir()
    tracks = []
    for index, (name, offset) in enumerate((("caseworker_plan", 0.0), ("client_update", 2.0))):
        clip = sample(name)
        file = f"{index:03d}-p{index}-audio.ogg"
        shutil.copyfile(clip.path, directory / file)
        duration = media_duration(directory / file)
        digest = plain_sha256(directory / file, None)
        encrypt_file(directory / file, KEY)
        tracks.append(
            TrackRecord(
                participant_id=f"p{index}",
                role=clip.speaker,
                kind="audio",
                codec="opus",
                file=file,
                started_at=1000.0 + offset,
                offset=offset,
                duration=duration,
                sha256=digest,
            )
        )
    manifest = RecordingManifest(
        started_at=1000.0, ended_at=None, interrupted=False, tracks=tuple(tracks)
    )
    out = build_playback(manifest, directory, tmp_path / "playback.mp4", key=KEY)
    expected = max(t.offset + t.duration for t in tracks)
    with av.open(str(out)) as container:
        assert container.duration / av.time_base == pytest.approx(expected, abs=0.3)
    assert load_audio(out).std() > 0.01  # voices, not silence
    with pytest.raises(EncryptionError):
        build_playback(manifest, directory, tmp_path / "nokey.mp4")


async def test_start_up_encrypts_recordings_and_verify_reads_them(
    client: TestClient, service
) -> None:  # type: ignore[no-untyped-def]
    """A service started with a key encrypts the plain recordings it finds; their
    fingerprints (of the plaintext) still verify with the key, and an altered encrypted
    file is named."""
    team = await office(client)
    visit = await visit_on_record(client, team.caseworker, "E-1")
    await service(recording_key=base64.b64encode(KEY).decode())
    paths = [data_dir(client) / r.path for r in visit.recordings]
    assert all(is_encrypted(p) for p in paths)
    assert (await verify(database(client), data_dir(client), KEY)).ok
    without_key = await verify(database(client), data_dir(client), None)
    assert len(without_key.problems) == 2
    assert all("no recording key" in p for p in without_key.problems)

    with paths[0].open("r+b") as file:
        file.seek(500)
        byte = file.read(1)
        file.seek(500)
        file.write(bytes([byte[0] ^ 0xFF]))
    report = await verify(database(client), data_dir(client), KEY)
    assert report.problems == [
        f"recording {visit.recordings[0].id} file {visit.recordings[0].path}: sha256 mismatch "
        f"({paths[0]} : chunk 0 fails authentication (altered))".replace(" : ", ": ")
    ]
    assert uuid.UUID(str(visit.booking_id))


async def test_an_encrypted_recording_is_served_with_ranges(aiohttp_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A player gets the plaintext of an encrypted file, whole or by byte ranges, exactly as
    it would get a plain file."""
    from aiohttp import web

    from visits.supervision.media import check_range, plain_size, stream

    data = os.urandom(300_000)
    plain, sealed = tmp_path / "plain.ogg", tmp_path / "sealed.ogg"
    plain.write_bytes(data)
    sealed.write_bytes(data)
    encrypt_file(sealed, KEY)

    async def serve(request: web.Request) -> web.StreamResponse:
        """What the playback route does, without its authorization and audit."""
        file = crypto.open_plain(tmp_path / request.match_info["name"], KEY)
        size = plain_size(file)
        check = check_range(request, size)
        if not check.satisfiable:
            file.close()
            return web.Response(status=416)
        return await stream(request, file, check, size, {"Content-Type": "audio/ogg"})

    app = web.Application()
    app.router.add_get("/{name}", serve)
    client = await aiohttp_client(app)
    for name in ("plain.ogg", "sealed.ogg"):
        whole = await client.get(f"/{name}")
        assert (whole.status, await whole.read()) == (200, data)
        for header, expected in (
            ("bytes=0-", data),
            ("bytes=70000-200000", data[70000:200001]),
            ("bytes=-1000", data[-1000:]),
        ):
            part = await client.get(f"/{name}", headers={"Range": header})
            assert part.status == 206, (name, header)
            assert await part.read() == expected, (name, header)
        beyond = await client.get(f"/{name}", headers={"Range": "bytes=400000-"})
        assert beyond.status == 416
