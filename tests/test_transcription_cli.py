"""The `transcribe` and `whisper-checkpoint` commands, run as a user would run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from transcription.samples import sample
from transcription.wer import word_error_rate

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """`python run.py ARGS` from the project root, output captured."""
    return subprocess.run(
        [sys.executable, "run.py", *map(str, args)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_transcribe_prints_the_text() -> None:
    """`transcribe FILE` prints what was said and exits 0."""
    clip = sample("client_update")
    result = run("transcribe", clip.path)
    assert result.returncode == 0, result.stderr
    assert word_error_rate(clip.text, result.stdout) <= 0.1
    assert result.stderr == ""


@pytest.mark.slow
def test_transcribe_json_has_segments_text_and_provenance() -> None:
    """`transcribe --json` prints one JSON object with segments, text, engine and model."""
    clip = sample("caseworker_plan")
    result = run("transcribe", clip.path, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {"segments", "text", "language", "engine", "model", "engine_version"}
    assert (data["engine"], data["model"], data["language"]) == ("faster-whisper", "tiny.en", "en")
    assert word_error_rate(clip.text, data["text"]) <= 0.1
    first = data["segments"][0]
    assert set(first) == {"start", "end", "text", "confidence"}
    assert 0 <= first["start"] < first["end"]


@pytest.mark.slow
def test_transcribe_with_openai_whisper_engine(tmp_path: Path) -> None:
    """`--engine openai-whisper` converts the bundled weights into --cache-dir and uses them."""
    clip = sample("client_closing")
    result = run("transcribe", clip.path, "--engine", "openai-whisper", "--cache-dir", tmp_path)
    assert result.returncode == 0, result.stderr
    assert word_error_rate(clip.text, result.stdout) <= 0.1
    assert (tmp_path / "whisper-tiny.en.pt").is_file()


def test_missing_file_is_one_line_on_stderr(tmp_path: Path) -> None:
    """A missing file exits non-zero with one line naming it, no traceback."""
    missing = tmp_path / "nothing.ogg"
    result = run("transcribe", missing)
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"error: {missing}: no such file"]


def test_unreadable_file_is_one_line_on_stderr() -> None:
    """A file that is not audio exits non-zero with one line, no traceback."""
    result = run("transcribe", "run.py")
    assert result.returncode != 0
    assert len(result.stderr.splitlines()) == 1
    assert "not a readable audio or video file" in result.stderr


def test_unknown_engine_is_one_line_on_stderr() -> None:
    """An unknown --engine exits non-zero with one line listing the real engines."""
    result = run("transcribe", sample("client_closing").path, "--engine", "whisper.cpp")
    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        "error: unknown transcription engine 'whisper.cpp'; "
        "choose one of: faster-whisper, openai-whisper"
    ]


def test_missing_model_directory_is_one_line_naming_it(tmp_path: Path) -> None:
    """A --model directory that does not exist is reported with its path."""
    missing = tmp_path / "model"
    result = run("transcribe", sample("client_closing").path, "--model", missing)
    assert result.returncode != 0
    assert len(result.stderr.splitlines()) == 1
    assert str(missing) in result.stderr


@pytest.mark.slow
def test_whisper_checkpoint_writes_a_loadable_checkpoint(tmp_path: Path) -> None:
    """`whisper-checkpoint OUT.pt` writes the converted bundled model and prints its path."""
    import whisper

    out = tmp_path / "tiny.en.pt"
    result = run("whisper-checkpoint", out)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out)
    assert whisper.load_model(str(out), device="cpu").dims.n_vocab == 51864


def test_whisper_checkpoint_from_missing_model_dir_is_one_line(tmp_path: Path) -> None:
    """`whisper-checkpoint --model-dir` without a model names the missing model.bin."""
    result = run("whisper-checkpoint", tmp_path / "out.pt", "--model-dir", tmp_path)
    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        f"error: no CTranslate2 model at {tmp_path / 'model.bin'}; "
        "pass a CTranslate2 Whisper model directory"
    ]
