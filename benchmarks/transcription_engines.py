"""Compare the Whisper engines on the same minute of speech: speed, memory and accuracy.

    PYTHONPATH=. python benchmarks/transcription_engines.py [--seconds 60] [--repeat 2]

The shipped samples are strung together (1 s of silence between clips) to about a minute.
Each engine runs in a fresh subprocess, so its peak resident memory (ru_maxrss) is its own:
imports, model and decoding. Real-time factor is the best of --repeat transcriptions of the
whole file divided by its duration (below 1 is faster than real time). The last line printed
is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
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

from transcription.audio import SAMPLE_RATE, load_audio, write_wav
from transcription.engine import ENGINE_NAMES
from transcription.samples import SAMPLES
from transcription.wer import word_error_rate

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
    print(json.dumps({"cpu_count": os.cpu_count(), "threads": args.threads, "engines": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
