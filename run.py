"""Virtual Visits command line: `python run.py --help` lists every command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import transcription.cli


def build_parser() -> argparse.ArgumentParser:
    """Each package registers its own subcommands; this file only assembles them."""
    parser = argparse.ArgumentParser(
        prog="run.py", description="Virtual Visits: virtual office hours for caseworkers."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in (transcription.cli.register,):
        register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
