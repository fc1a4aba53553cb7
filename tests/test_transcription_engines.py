"""Both Whisper engines on the shipped samples, on silence and noise, and when misconfigured."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pytest

from tests import speech
from transcription.audio import load_audio
from transcription.checkpoint import convert_ctranslate2_to_openai
from transcription.engine import (
    ENGINE_NAMES,
    Engine,
    EngineUnavailable,
    Transcription,
    bundled_model_dir,
    load_engine,
)
from transcription.samples import SAMPLES, sample
from transcription.wer import corpus_word_error_rate, normalize, word_error_rate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Engine]:
    """Each engine loaded once for the module, as a worker process would."""
    cache = tmp_path_factory.mktemp("model-cache")
    return {name: load_engine(name, cache_dir=cache) for name in ENGINE_NAMES}


@pytest.fixture(scope="module")
def default_results(engines: dict[str, Engine]) -> dict[str, Transcription]:
    """The default engine's transcription of every shipped sample."""
    return {s.name: engines["faster-whisper"].transcribe(s.path) for s in SAMPLES}


def test_default_engine_word_error_rate_on_samples_is_at_most_ten_percent(
    default_results: dict[str, Transcription],
) -> None:
    """faster-whisper with the bundled tiny.en gets at most 10% of the sample words wrong."""
    pairs = [(s.text, default_results[s.name].text) for s in SAMPLES]
    assert corpus_word_error_rate(pairs) <= 0.10, pairs
    for reference, heard in pairs:
        assert word_error_rate(reference, heard) <= 0.20, (reference, heard)


def test_default_engine_hears_the_follow_up_date_and_the_risk_phrase(
    default_results: dict[str, Transcription],
) -> None:
    """The phrases later note stages look for survive transcription."""
    assert "next visit is on tuesday at ten" in normalize(default_results["caseworker_plan"].text)
    assert "not been eating" in normalize(default_results["client_update"].text)


def test_segments_are_timed_in_order_within_the_file(
    default_results: dict[str, Transcription],
) -> None:
    """Segments are ordered, non-empty, inside the audio, with confidence in 0..1."""
    for result in default_results.values():
        assert result.segments
        assert result.text == " ".join(segment.text for segment in result.segments)
        previous_end = 0.0
        for segment in result.segments:
            assert previous_end <= segment.start < segment.end <= result.duration + 0.01
            assert segment.text
            assert 0.0 < segment.confidence <= 1.0
            previous_end = segment.end


def test_transcription_provenance_and_json_form(default_results: dict[str, Transcription]) -> None:
    """A transcription names engine, model, version and language, and round-trips via JSON."""
    result = default_results["client_closing"]
    assert (result.engine, result.model, result.language) == ("faster-whisper", "tiny.en", "en")
    assert result.engine_version
    assert result.duration == pytest.approx(8.16, abs=0.05)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["text"] == result.text
    assert set(data["segments"][0]) == {"start", "end", "text", "confidence"}


@pytest.mark.parametrize("name", [s.name for s in SAMPLES])
def test_openai_whisper_on_converted_checkpoint_matches_faster_whisper(
    engines: dict[str, Engine], default_results: dict[str, Transcription], name: str
) -> None:
    """openai-whisper, running the converted bundled weights, hears the same words."""
    result = engines["openai-whisper"].transcribe(sample(name).path)
    assert (result.engine, result.model, result.language) == ("openai-whisper", "tiny.en", "en")
    assert normalize(result.text) == normalize(default_results[name].text)
    starts = [round(segment.start) for segment in result.segments]
    assert starts[0] == round(default_results[name].segments[0].start)


NOT_SPEECH: Mapping[str, Callable[[], np.ndarray]] = MappingProxyType(
    {
        "silence": lambda: speech.silence(10),
        "quiet hiss (white noise, -45 dBFS)": lambda: speech.white_noise(10, dbfs=-45),
        "loud hiss (white noise, -25 dBFS)": lambda: speech.white_noise(10, dbfs=-25, seed=1),
        "room noise (pink noise, -35 dBFS)": lambda: speech.pink_noise(10, dbfs=-35),
        "loud room noise (pink noise, -20 dBFS)": lambda: speech.pink_noise(10, dbfs=-20, seed=1),
    }
)


@pytest.mark.parametrize("engine_name", ENGINE_NAMES)
@pytest.mark.parametrize("kind", NOT_SPEECH)
def test_silence_and_noise_produce_no_text(
    engines: dict[str, Engine], tmp_path: Path, engine_name: str, kind: str
) -> None:
    """Ten seconds without speech yield no segments and no text from either engine."""
    audio = speech.wav_file(NOT_SPEECH[kind](), tmp_path / "no-speech.wav")
    result = engines[engine_name].transcribe(audio)
    assert result.segments == ()
    assert result.text == ""
    assert result.duration == pytest.approx(10.0)


@pytest.mark.parametrize("engine_name", ENGINE_NAMES)
def test_empty_recording_gives_an_empty_transcription(
    engines: dict[str, Engine], tmp_path: Path, engine_name: str
) -> None:
    """A valid file with no samples (a visit that never got audio) is no text, not an error."""
    audio = speech.wav_file(speech.silence(0), tmp_path / "empty.wav")
    result = engines[engine_name].transcribe(audio)
    assert (result.text, result.segments, result.duration) == ("", (), 0.0)


@pytest.mark.parametrize("engine_name", ENGINE_NAMES)
def test_speech_after_a_long_silence_keeps_its_place_in_the_file(
    engines: dict[str, Engine], tmp_path: Path, engine_name: str
) -> None:
    """Timestamps refer to the file, not to the speech left after silence is cut out."""
    clip = sample("client_closing")
    samples = np.concatenate([speech.silence(20), load_audio(clip.path)])
    result = engines[engine_name].transcribe(speech.wav_file(samples, tmp_path / "late.wav"))
    assert word_error_rate(clip.text, result.text) <= 0.1
    assert 19.5 <= result.segments[0].start <= 21.0


def test_missing_faster_whisper_model_directory_is_reported_with_its_path(tmp_path: Path) -> None:
    """A model directory that does not exist names itself in EngineUnavailable."""
    missing = tmp_path / "no-such-model"
    with pytest.raises(EngineUnavailable, match=re.escape(str(missing))):
        load_engine("faster-whisper", str(missing))


def test_incomplete_faster_whisper_model_directory_says_what_it_lacks(tmp_path: Path) -> None:
    """A directory without model files names the path and the missing files."""
    with pytest.raises(EngineUnavailable, match=re.escape(str(tmp_path)) + r".*model\.bin"):
        load_engine("faster-whisper", str(tmp_path))


def test_corrupt_faster_whisper_model_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    """Garbage in model.bin gives EngineUnavailable naming the directory."""
    for name in ("model.bin", "config.json", "tokenizer.json"):
        (tmp_path / name).write_text("{}")
    with pytest.raises(EngineUnavailable, match=re.escape(str(tmp_path))):
        load_engine("faster-whisper", str(tmp_path))


def test_missing_openai_whisper_checkpoint_is_reported_with_its_path(tmp_path: Path) -> None:
    """A checkpoint path that does not exist names itself in EngineUnavailable."""
    missing = tmp_path / "model.pt"
    with pytest.raises(EngineUnavailable, match=re.escape(str(missing))):
        load_engine("openai-whisper", str(missing))


@pytest.mark.parametrize("content", [b"hello\n", b"PK\x03\x04" + bytes(2000)])
def test_corrupt_openai_whisper_checkpoint_is_unavailable_not_a_crash(
    tmp_path: Path, content: bytes
) -> None:
    """A file that is not a checkpoint gives EngineUnavailable naming it."""
    bogus = tmp_path / "model.pt"
    bogus.write_bytes(content)
    with pytest.raises(EngineUnavailable, match=re.escape(f"{bogus} is not a loadable")):
        load_engine("openai-whisper", str(bogus))


def test_uncached_openai_whisper_model_name_is_never_downloaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model name not in the local cache is refused with the path it was looked for at."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    expected = tmp_path / "whisper" / "base.en.pt"
    with pytest.raises(EngineUnavailable, match=re.escape(f"not cached at {expected}")):
        load_engine("openai-whisper", "base.en")


def test_cached_openai_whisper_model_name_loads_from_the_local_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model name whose file is already in openai-whisper's cache is used, offline."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    (tmp_path / "whisper").mkdir()
    convert_ctranslate2_to_openai(bundled_model_dir(), tmp_path / "whisper" / "tiny.en.pt")
    engine = load_engine("openai-whisper", "tiny.en")
    clip = sample("client_closing")
    result = engine.transcribe(clip.path)
    assert result.model == "tiny.en"
    assert word_error_rate(clip.text, result.text) <= 0.1


def test_unknown_engine_lists_the_known_ones() -> None:
    """An unknown engine name is refused with the names that exist."""
    with pytest.raises(EngineUnavailable, match="faster-whisper, openai-whisper"):
        load_engine("whisper.cpp")
