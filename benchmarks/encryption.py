"""Cost of encrypting recordings at rest: encrypt, read back, and fingerprint (MB/s).

A recording of one participant for an hour is ~30-60 MB (Opus audio plus reduced video);
these rates say how long finalizing, playback building and `audit verify` spend on crypto.
Run: `PYTHONPATH=. python benchmarks/encryption.py [--mb 64]`. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from visits.crypto import encrypt_file, open_plain, plain_sha256


def rate(mb: float, seconds: float) -> float:
    return round(mb / seconds, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=64)
    args = parser.parse_args()
    key = os.urandom(32)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "track.webm"
        path.write_bytes(os.urandom(args.mb * 1024 * 1024))
        start = time.perf_counter()
        plain_digest = plain_sha256(path, None)
        plain_hash = time.perf_counter() - start
        start = time.perf_counter()
        encrypt_file(path, key)
        encrypt = time.perf_counter() - start
        start = time.perf_counter()
        assert plain_sha256(path, key) == plain_digest
        encrypted_hash = time.perf_counter() - start
        start = time.perf_counter()
        with open_plain(path, key) as file:
            for offset in range(0, args.mb * 1024 * 1024, 1024 * 1024):
                file.seek(offset)
                file.read(4096)
        seeks = time.perf_counter() - start
        overhead = path.stat().st_size / (args.mb * 1024 * 1024) - 1
    result = {
        "mb": args.mb,
        "encrypt_mb_s": rate(args.mb, encrypt),
        "sha256_plain_mb_s": rate(args.mb, plain_hash),
        "decrypt_sha256_mb_s": rate(args.mb, encrypted_hash),
        "random_seek_read_ms": round(seeks / args.mb * 1000, 3),
        "size_overhead_percent": round(overhead * 100, 3),
    }
    print(
        f"encrypt {result['encrypt_mb_s']} MB/s; verify {result['decrypt_sha256_mb_s']} MB/s "
        f"encrypted vs {result['sha256_plain_mb_s']} MB/s plain; seek+read 4 KiB "
        f"{result['random_seek_read_ms']} ms; size +{result['size_overhead_percent']}%"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
