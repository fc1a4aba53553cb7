"""Command-line commands of the transcription package.

    run.py transcribe FILE [--engine NAME] [--model PATH_OR_NAME] [--json]
    run.py whisper-checkpoint OUT.pt [--model-dir DIR]
    run.py demo [--json] [--data-dir DIR]

Errors a user can cause (a missing or unreadable file, an unknown or uninstalled engine) are
one line on stderr and exit status 1, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from transcription.audio import AudioError
from transcription.engine import DEFAULT_ENGINE, ENGINE_NAMES, EngineUnavailable, load_engine

logger = logging.getLogger(__name__)

AppFactory = Callable[..., web.Application]

EXIT_OK = 0
EXIT_ERROR = 1


def register(commands: argparse._SubParsersAction, app_factory: AppFactory) -> None:  # type: ignore[type-arg]
    """Add this package's subcommands; each sets `run(args) -> exit code`."""
    transcribe = commands.add_parser(
        "transcribe",
        help="transcribe an audio or video file",
        description="Transcribe the first audio stream of FILE (any format FFmpeg reads) "
        "and print the text, or with --json the timed segments too.",
    )
    transcribe.add_argument("file", type=Path, metavar="FILE")
    transcribe.add_argument(
        "--engine",
        default=DEFAULT_ENGINE,
        metavar="NAME",
        help=f"one of {', '.join(ENGINE_NAMES)} (default {DEFAULT_ENGINE})",
    )
    transcribe.add_argument(
        "--model",
        metavar="PATH_OR_NAME",
        help="faster-whisper: a CTranslate2 model directory; openai-whisper: a .pt checkpoint "
        "or an already cached model name (default: the bundled tiny.en)",
    )
    transcribe.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="where openai-whisper keeps the checkpoint converted from the bundled weights "
        "(default ~/.cache/virtual-visits)",
    )
    transcribe.add_argument("--json", action="store_true", help="print one JSON object")
    transcribe.set_defaults(run=run_transcribe)

    checkpoint = commands.add_parser(
        "whisper-checkpoint",
        help="convert the bundled Whisper weights into an openai-whisper checkpoint",
        description="Write an openai-whisper checkpoint (.pt) made from a CTranslate2 "
        "Whisper model, by default the bundled tiny.en. Needs PyTorch.",
    )
    checkpoint.add_argument("out", type=Path, metavar="OUT.pt")
    checkpoint.add_argument(
        "--model-dir",
        type=Path,
        metavar="DIR",
        help="CTranslate2 Whisper model directory (default: the bundled tiny.en)",
    )
    checkpoint.set_defaults(run=run_whisper_checkpoint)

    demo = commands.add_parser(
        "demo",
        help="hold one real visit offline and print its transcript and draft note",
        description="Start the service on a loopback port with a fresh database, book a "
        "visit, let two synthetic participants hold it with recorded speech, then print the "
        "speaker-labelled transcript and the draft visit note (about a minute).",
    )
    demo.add_argument("--json", action="store_true", help="print one JSON object")
    demo.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="keep the database and recordings here (default: a temporary directory)",
    )
    demo.set_defaults(run=lambda args: run_demo_command(args, app_factory))


def run_transcribe(args: argparse.Namespace) -> int:
    """Print what the engine hears in the file."""
    if not args.file.is_file():
        return _fail(f"{args.file}: no such file")
    try:
        engine = load_engine(args.engine, args.model, cache_dir=args.cache_dir)
        transcription = engine.transcribe(args.file)
    except (EngineUnavailable, AudioError) as error:
        return _fail(str(error))
    if args.json:
        print(json.dumps(transcription.to_dict(), ensure_ascii=False))
    elif transcription.text:
        print(transcription.text)
    return EXIT_OK


def run_whisper_checkpoint(args: argparse.Namespace) -> int:
    """Convert a CTranslate2 Whisper model and print where the checkpoint went."""
    from transcription.checkpoint import convert_ctranslate2_to_openai
    from transcription.engine import bundled_model_dir

    try:
        model_dir = args.model_dir or bundled_model_dir()
        out = convert_ctranslate2_to_openai(model_dir, args.out)
    except (EngineUnavailable, ValueError, OSError) as error:
        return _fail(str(error))
    print(out)
    return EXIT_OK


def run_demo_command(args: argparse.Namespace, app_factory: AppFactory) -> int:
    """Run the demo visit and print what the caseworker would find on the case."""
    from transcription.demo import run_demo

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="vv-demo-") as scratch:
        data_dir = args.data_dir or Path(scratch)
        if data_dir.exists() and any(data_dir.iterdir()) and args.data_dir is not None:
            return _fail(f"{data_dir}: the demo needs an empty or new directory")
        try:
            result = asyncio.run(run_demo(app_factory, data_dir))
        except (RuntimeError, TimeoutError, OSError) as error:
            return _fail(f"the demo visit failed: {error}")
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(f"Visit {result['visit_id']}\n\nTranscript\n{result['transcript']['text']}\n")
        print(result["note_text"])
    return EXIT_OK


def _fail(message: str) -> int:
    """Report on one line (library messages can span several) and return the error status."""
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_ERROR
