"""Virtual Visits command line: `python run.py --help` lists every command.

This file also composes the service: the core (visits) plus the rooms it is given.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from aiohttp import web

import transcription.cli
import visits.cli
from scheduler.room import room as scheduler_room
from signaling.room import room as signaling_room
from transcription.room import room as transcription_room
from visits.settings import Settings
from visits.web.app import Room, create_app

ROOMS: tuple[Room, ...] = (scheduler_room, signaling_room, transcription_room)


def build_app(settings: Settings) -> web.Application:
    """The whole service: every package's routes, pages, resources and jobs."""
    return create_app(settings, ROOMS)


def build_parser() -> argparse.ArgumentParser:
    """Each package registers its own subcommands; this file only assembles them."""
    parser = argparse.ArgumentParser(
        prog="run.py", description="Virtual Visits: virtual office hours for caseworkers."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    visits.cli.register(commands, build_app)
    transcription.cli.register(commands, build_app)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
