"""Regenerate the shipped speech samples from their text in `transcription.samples`.

    python -m transcription.samples.make_samples            # rewrite the .ogg files here
    python -m transcription.samples.make_samples --check    # also transcribe them, print WER

Needs espeak-ng and sox on the PATH (Debian: apt-get install espeak-ng sox). espeak-ng
speaks each line, sox converts it to 48 kHz mono, normalizes it to -3 dBFS and pads half a
second of silence at each end (Whisper clips the first word of speech that starts at 0 s),
and PyAV encodes it as Ogg/Opus at 32 kbit/s, about 40 kB per clip.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import av

from transcription.samples import SAMPLE_DIR, SAMPLES, Sample

logger = logging.getLogger(__name__)

OPUS_RATE = 48_000
OPUS_BIT_RATE = 32_000
PAD_SECONDS = 0.5


def synthesize(sample: Sample, out: Path) -> Path:
    """Speak `sample.text` in its voice and store it as Ogg/Opus at `out`."""
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is not installed (Debian: apt-get install espeak-ng sox)")
    with tempfile.TemporaryDirectory() as scratch:
        spoken, clean = Path(scratch) / "spoken.wav", Path(scratch) / "clean.wav"
        voice = sample.voice
        subprocess.run(
            [
                *("espeak-ng", "-v", voice.name, "-s", str(voice.speed), "-p", str(voice.pitch)),
                *("-w", str(spoken), sample.text),
            ],
            check=True,
        )
        subprocess.run(
            [
                *("sox", str(spoken), "-r", str(OPUS_RATE), "-c", "1", "-b", "16", str(clean)),
                *("norm", "-3", "pad", str(PAD_SECONDS), str(PAD_SECONDS)),
            ],
            check=True,
        )
        encode_opus(clean, out, title=f"{sample.speaker}: {sample.text}")
    return out


def encode_opus(source: Path, out: Path, *, title: str) -> None:
    """Re-encode the audio of `source` as mono Ogg/Opus."""
    with av.open(str(source)) as reader, av.open(str(out), "w", format="ogg") as writer:
        writer.metadata["title"] = title
        writer.metadata["comment"] = (
            "Generated with espeak-ng for Virtual Visits; released under AGPL-3.0-or-later."
        )
        stream = writer.add_stream("libopus", rate=OPUS_RATE, layout="mono")
        stream.bit_rate = OPUS_BIT_RATE
        for frame in reader.decode(audio=0):
            frame.pts = None
            for packet in stream.encode(frame):
                writer.mux(packet)
        for packet in stream.encode(None):
            writer.mux(packet)


def check(directory: Path) -> float:
    """Transcribe the clips in `directory` with the default engine; print each WER; return the
    worst, so a wording change that tiny.en mishears shows up before it is committed."""
    from transcription.engine import load_engine
    from transcription.wer import word_error_rate

    engine = load_engine()
    worst = 0.0
    for sample in SAMPLES:
        heard = engine.transcribe(directory / sample.path.name).text
        error_rate = word_error_rate(sample.text, heard)
        worst = max(worst, error_rate)
        print(f"{sample.name}: WER {error_rate:.1%}\n  said:  {sample.text}\n  heard: {heard}")
    return worst


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=SAMPLE_DIR, help="where to write the .ogg")
    parser.add_argument("--check", action="store_true", help="transcribe and print the WER")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for sample in SAMPLES:
        out = synthesize(sample, args.out / sample.path.name)
        print(f"wrote {out} ({out.stat().st_size} bytes)")
    if args.check:
        check(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
