"""Converting the bundled CTranslate2 Whisper model into an openai-whisper checkpoint."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import whisper
from whisper.model import sinusoids

from transcription.checkpoint import (
    convert_ctranslate2_to_openai,
    openai_state_dict,
    read_ctranslate2_model,
    whisper_dims,
)
from transcription.engine import EngineUnavailable, bundled_model_dir

TINY_EN_DIMS = {
    "n_mels": 80,
    "n_audio_ctx": 1500,
    "n_audio_state": 384,
    "n_audio_head": 6,
    "n_audio_layer": 4,
    "n_vocab": 51864,
    "n_text_ctx": 448,
    "n_text_state": 384,
    "n_text_head": 6,
    "n_text_layer": 4,
}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled tiny.en converted once for this module."""
    out = tmp_path_factory.mktemp("checkpoint") / "tiny.en.pt"
    return convert_ctranslate2_to_openai(bundled_model_dir(), out)


def test_dimensions_are_read_from_the_model() -> None:
    """tiny.en's dimensions come out of the tensors and its stored head counts."""
    model = read_ctranslate2_model(bundled_model_dir() / "model.bin")
    assert model.spec == "WhisperSpec"
    assert whisper_dims(model) == TINY_EN_DIMS


def test_every_openai_whisper_parameter_is_filled_with_the_right_shape() -> None:
    """The converted state dict has exactly openai-whisper's keys and shapes."""
    model = read_ctranslate2_model(bundled_model_dir() / "model.bin")
    expected = whisper.model.Whisper(whisper.model.ModelDimensions(**TINY_EN_DIMS)).state_dict()
    converted = openai_state_dict(model)
    assert set(converted) == set(expected)
    for name, tensor in expected.items():
        assert converted[name].shape == tuple(tensor.shape), name


def test_whisper_load_model_accepts_the_checkpoint(checkpoint: Path) -> None:
    """whisper.load_model(path) loads it as an English-only tiny model (gpt2 tokenizer)."""
    model = whisper.load_model(str(checkpoint), device="cpu")
    assert model.dims == whisper.model.ModelDimensions(**TINY_EN_DIMS)
    assert not model.is_multilingual  # so openai-whisper decodes with its gpt2 tokenizer


def test_encoder_positions_are_whisper_sinusoids(checkpoint: Path) -> None:
    """The encoder's positional table equals openai-whisper's sinusoids (to float16 precision)."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)["model_state_dict"]
    positions = state["encoder.positional_embedding"].float()
    assert torch.allclose(positions, sinusoids(1500, 384), atol=1e-3)


def test_alignment_heads_travel_with_the_checkpoint(checkpoint: Path) -> None:
    """The model's own alignment heads (config.json) are stored, matching OpenAI's tiny.en."""
    stored = torch.load(checkpoint, map_location="cpu", weights_only=True)["alignment_heads"]
    assert stored == [[1, 0], [2, 0], [2, 5], [3, 0], [3, 1], [3, 2], [3, 3], [3, 4]]


def test_conversion_replaces_an_existing_file_whole(checkpoint: Path, tmp_path: Path) -> None:
    """Converting onto an existing path overwrites it and leaves no temporary files."""
    out = tmp_path / "model.pt"
    out.write_bytes(b"stale")
    convert_ctranslate2_to_openai(bundled_model_dir(), out)
    assert out.stat().st_size == checkpoint.stat().st_size
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_missing_model_directory_names_the_path(tmp_path: Path) -> None:
    """Converting from a directory without model.bin says which file is missing."""
    with pytest.raises(EngineUnavailable, match=re.escape(str(tmp_path / "model.bin"))):
        convert_ctranslate2_to_openai(tmp_path, tmp_path / "out.pt")


def test_file_that_is_not_a_ctranslate2_model_is_refused(tmp_path: Path) -> None:
    """A truncated model.bin is a ValueError, not a crash or a half-written checkpoint."""
    source = bundled_model_dir()
    broken = tmp_path / "broken"
    broken.mkdir()
    shutil.copy(source / "config.json", broken)
    (broken / "model.bin").write_bytes((source / "model.bin").read_bytes()[:5000])
    with pytest.raises(ValueError, match="not a CTranslate2 model file"):
        convert_ctranslate2_to_openai(broken, tmp_path / "out.pt")
    assert not (tmp_path / "out.pt").exists()


def test_weights_keep_their_values(checkpoint: Path) -> None:
    """Spot check: a fused query/key/value row and the token embedding survive unchanged."""
    model = read_ctranslate2_model(bundled_model_dir() / "model.bin")
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)["model_state_dict"]
    fused = model.variables["decoder/layer_2/self_attention/linear_0/weight"]
    assert np.array_equal(state["decoder.blocks.2.attn.value.weight"].numpy(), fused[768:])
    assert np.array_equal(
        state["decoder.token_embedding.weight"].numpy(),
        model.variables["decoder/embeddings/weight"],
    )
