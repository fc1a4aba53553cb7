"""Transcription: both Whisper engines on the same speech, and hang-up to draft note.

    PYTHONPATH=. python benchmarks/transcription.py [--seconds 60] [--repeat 2]
        [--visit-minutes 1 10]

The shipped samples are strung together (1 s of silence between clips) to about a minute.
Each engine runs in a fresh subprocess, so its peak resident memory (ru_maxrss) is its own:
imports, model and decoding. Real-time factor is the best of --repeat transcriptions of the
whole file divided by its duration (below 1 is faster than real time). The last line printed
is one JSON object with every figure.

Hang-up to draft note: for a visit of each length, two participants' recordings (the
caseworker's and the client's turns, each silent while the other speaks) are put on a booking
of the running service, and the clock runs from the moment the visit's recordings are final
(the VisitRecorded event, right after hang-up) until its draft note is on the case, through
the real queue, process pool, merge and note drafting, with the default settings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

# Run as a script, this file's folder comes first on sys.path, and this file's name would hide
# the `transcription` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from transcription.audio import SAMPLE_RATE, load_audio, write_wav  # noqa: E402
from transcription.engine import ENGINE_NAMES  # noqa: E402
from transcription.samples import SAMPLES  # noqa: E402
from transcription.wer import word_error_rate  # noqa: E402

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]

GAP_SECONDS = 1.0


def build_audio(out: Path, seconds: float) -> tuple[Path, str]:
    """Write the samples in conversation order, repeated until within 5 s of `seconds`.

    Returns the WAV path and its reference text.
    """
    pieces: list[np.ndarray] = []
    texts: list[str] = []
    gap = np.zeros(int(GAP_SECONDS * SAMPLE_RATE), dtype=np.float32)
    total = 0.0
    while total < seconds - 5:
        sample = SAMPLES[len(texts) % len(SAMPLES)]
        clip = load_audio(sample.path)
        pieces += [clip, gap]
        texts.append(sample.text)
        total += (len(clip) + len(gap)) / SAMPLE_RATE
    return write_wav(np.concatenate(pieces), out), " ".join(texts)


def build_visit(directory: Path, minutes: float) -> tuple[Path, Path]:
    """Two participants' tracks of a visit: turns of the shipped clips, 1.5 s apart."""
    gap = np.zeros(int(1.5 * SAMPLE_RATE), dtype=np.float32)
    tracks: dict[str, list[np.ndarray]] = {"caseworker": [], "client": []}
    total, index = 0.0, 0
    while total < minutes * 60 - 5:
        sample = SAMPLES[index % len(SAMPLES)]
        clip = np.concatenate([load_audio(sample.path), gap])
        for speaker, pieces in tracks.items():
            pieces.append(clip if speaker == sample.speaker else np.zeros_like(clip))
        total += len(clip) / SAMPLE_RATE
        index += 1
    return (
        write_wav(np.concatenate(tracks["caseworker"]), directory / "caseworker.wav"),
        write_wav(np.concatenate(tracks["client"]), directory / "client.wav"),
    )


async def hang_up_to_note(directory: Path, minutes: float) -> dict[str, Any]:
    """Seconds from a visit's recordings being final to its draft note, in the real service."""
    from aiohttp import web
    from sqlalchemy import select

    from run import build_app
    from transcription.demo import book_demo_visit
    from visits.events import VisitRecorded
    from visits.models import Recording, RecordingStatus, VisitNote
    from visits.settings import load_settings
    from visits.web.keys import DATABASE, EVENTS

    data_dir = directory / f"data-{minutes:g}"
    settings = load_settings({}, data_dir=data_dir, bootstrap_admin=False)
    runner = web.AppRunner(build_app(settings), handle_signals=False)
    await runner.setup()
    try:
        db = runner.app[DATABASE]
        visit = await book_demo_visit(db)
        folder = data_dir / "recordings" / str(visit.booking_id)
        folder.mkdir(parents=True)
        caseworker, client = build_visit(folder, minutes)
        async with db.transaction() as session:
            for path, role, name in (
                (caseworker, "caseworker", "Maria Lopez"),
                (client, "client", "Dana Rivera"),
            ):
                session.add(
                    Recording(
                        booking_id=visit.booking_id,
                        participant_role=role,
                        participant_name=name,
                        kind="audio",
                        path=str(path.relative_to(data_dir)),
                        status=RecordingStatus.FINALIZED,
                    )
                )
        started = time.perf_counter()
        await runner.app[EVENTS].publish(VisitRecorded(visit.booking_id))
        while True:
            async with db.transaction() as session:
                note = await session.scalar(
                    select(VisitNote).where(VisitNote.booking_id == visit.booking_id)
                )
            if note is not None:
                break
            await asyncio.sleep(0.1)
        return {
            "visit_minutes": minutes,
            "hang_up_to_note_seconds": round(time.perf_counter() - started, 2),
        }
    finally:
        await runner.cleanup()


def measure(engine_name: str, audio: Path, cache_dir: Path, repeat: int, threads: int) -> None:
    """Worker: load one engine, transcribe `audio` `repeat` times, print one JSON line."""
    started = time.perf_counter()
    from transcription.engine import load_engine

    engine = load_engine(engine_name, cache_dir=cache_dir, threads=threads)
    load_seconds = time.perf_counter() - started
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = engine.transcribe(audio)
        timings.append(time.perf_counter() - started)
    figures = {
        "engine": engine_name,
        "model": result.model,
        "engine_version": result.engine_version,
        "audio_seconds": round(result.duration, 2),
        "load_seconds": round(load_seconds, 2),
        "transcribe_seconds": round(min(timings), 2),
        "rtf": round(min(timings) / result.duration, 3),
        # Linux reports ru_maxrss in KiB.
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "text": result.text,
    }
    print(json.dumps(figures))


def run_worker(
    engine_name: str, audio: Path, cache_dir: Path, repeat: int, threads: int
) -> dict[str, Any]:
    """Run `measure` in a fresh interpreter and return its figures."""
    command = [sys.executable, __file__, "--worker", engine_name, "--audio", str(audio)]
    command += ["--cache-dir", str(cache_dir), "--repeat", str(repeat), "--threads", str(threads)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{engine_name} worker failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the test audio")
    parser.add_argument("--repeat", type=int, default=2, help="transcriptions per engine")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: default)")
    parser.add_argument("--engines", nargs="+", default=list(ENGINE_NAMES), metavar="NAME")
    parser.add_argument("--cache-dir", type=Path, help="openai-whisper checkpoint cache")
    parser.add_argument(
        "--visit-minutes",
        type=float,
        nargs="*",
        default=[1.0, 10.0],
        metavar="MIN",
        help="visit lengths for hang-up to draft note (none: skip)",
    )
    parser.add_argument("--worker", metavar="NAME", help=argparse.SUPPRESS)
    parser.add_argument("--audio", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as scratch:
        cache_dir = args.cache_dir or Path(scratch) / "cache"
        if args.worker:
            measure(args.worker, args.audio, cache_dir, args.repeat, args.threads)
            return 0
        audio, reference = build_audio(Path(scratch) / "visit.wav", args.seconds)
        if "openai-whisper" in args.engines:
            # Convert the checkpoint up front so the worker measures loading, not converting.
            from transcription._openai_whisper import default_checkpoint
            from transcription.checkpoint import convert_ctranslate2_to_openai
            from transcription.engine import bundled_model_dir

            if not default_checkpoint(cache_dir).is_file():
                convert_ctranslate2_to_openai(bundled_model_dir(), default_checkpoint(cache_dir))
        results = {}
        for name in args.engines:
            figures = run_worker(name, audio, cache_dir, args.repeat, args.threads)
            figures["wer"] = round(word_error_rate(reference, figures.pop("text")), 4)
            results[name] = figures
            print(
                f"{name:15} {figures['audio_seconds']:.1f} s audio: "
                f"load {figures['load_seconds']:.2f} s, "
                f"transcribe {figures['transcribe_seconds']:.2f} s (RTF {figures['rtf']:.3f}), "
                f"peak RSS {figures['peak_rss_mb']:.0f} MB, WER {figures['wer']:.1%}"
            )
        visits = []
        for minutes in args.visit_minutes:
            figures = asyncio.run(hang_up_to_note(Path(scratch), minutes))
            visits.append(figures)
            print(
                f"{minutes:g}-minute visit: draft note "
                f"{figures['hang_up_to_note_seconds']:.1f} s after hang-up"
            )
    print(
        json.dumps(
            {
                "cpu_count": os.cpu_count(),
                "threads": args.threads,
                "engines": results,
                "hang_up_to_note": visits,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
