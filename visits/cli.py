"""Core commands: serve, migrate and create-user."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from visits.db import Database
from visits.migrate import SchemaOutOfDate, ensure_schema, upgrade
from visits.models import StaffRole, StaffUser, Team
from visits.security import Passwords, check_password_strength, new_token
from visits.settings import Settings, SettingsError, load_settings

logger = logging.getLogger(__name__)

AppFactory = Callable[[Settings], web.Application]


class CommandError(Exception):
    """A problem the person at the terminal can fix; printed without a traceback."""


def settings_from(args: argparse.Namespace) -> Settings:
    overrides = {
        name: value
        for name in ("host", "port", "data_dir")
        if (value := getattr(args, name, None)) is not None
    }
    return load_settings(None, **overrides)


def register(commands: argparse._SubParsersAction, app_factory: AppFactory) -> None:  # type: ignore[type-arg]
    serve = commands.add_parser("serve", help="run the web service")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1, VV_HOST)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8080, VV_PORT)")
    serve.add_argument(
        "--data-dir", type=Path, help="where the SQLite file and recordings live (default ./data)"
    )
    serve.set_defaults(run=lambda args: _serve(args, app_factory))

    migrate = commands.add_parser("migrate", help="create or upgrade the database schema")
    migrate.add_argument("--data-dir", type=Path, help="data directory (default ./data)")
    migrate.set_defaults(run=_migrate)

    create_user = commands.add_parser(
        "create-user", help="create a staff account; the password is read from a prompt or stdin"
    )
    create_user.add_argument("--role", required=True, choices=[r.value for r in StaffRole])
    create_user.add_argument("--username", required=True, help="sign-in name, e.g. jdoe")
    create_user.add_argument("--name", required=True, help="display name, e.g. 'Jane Doe'")
    create_user.add_argument("--team", help="team name (created if new); required but for admins")
    create_user.add_argument("--data-dir", type=Path, help="data directory (default ./data)")
    create_user.set_defaults(run=_create_user)

    from visits import audit_cli  # imported here: it uses this module's helpers

    audit_cli.register(commands)


def run_command(work: Callable[[], object]) -> int:
    """Run a command body, turning expected failures into a one-line message and exit code."""
    try:
        work()
    except (SettingsError, SchemaOutOfDate, CommandError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: cannot reach the database or data directory: {error}", file=sys.stderr)
        return 1
    return 0


def _migrate(args: argparse.Namespace) -> int:
    async def work() -> None:
        settings = settings_from(args)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        database = Database(settings.database_url)
        try:
            await upgrade(database.engine)
        finally:
            await database.close()
        print(f"database is up to date ({_redacted(settings.database_url)})")

    return run_command(lambda: asyncio.run(work()))


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != first:
            raise CommandError("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


def _create_user(args: argparse.Namespace) -> int:
    async def work() -> None:
        settings = settings_from(args)
        role = StaffRole(args.role)
        if role is not StaffRole.ADMIN and not args.team:
            raise CommandError(f"a {role.value} needs --team")
        password = _read_password()
        if problem := check_password_strength(password):
            raise CommandError(problem)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        database = Database(settings.database_url)
        try:
            await ensure_schema(database.engine)
            password_hash = await Passwords().hash(password)
            async with database.transaction() as session:
                team_id = None
                if args.team:
                    team = await session.scalar(select(Team).where(Team.name == args.team))
                    if team is None:
                        team = Team(name=args.team)
                        session.add(team)
                        await session.flush()
                        print(f"created team {args.team!r}")
                    team_id = team.id
                session.add(
                    StaffUser(
                        username=args.username.strip().lower(),
                        display_name=args.name,
                        role=role,
                        team_id=team_id,
                        password_hash=password_hash,
                    )
                )
        except IntegrityError:
            raise CommandError(f"the username {args.username!r} is taken") from None
        finally:
            await database.close()
        print(f"created {role.value} {args.username!r}")

    return run_command(lambda: asyncio.run(work()))


async def bootstrap_admin(database: Database) -> str | None:
    """On a database without staff, create `admin` and return its one-time password."""
    async with database.transaction() as session:
        if await session.scalar(select(func.count()).select_from(StaffUser)):
            return None
        password = new_token()[:20]
        session.add(
            StaffUser(
                username="admin",
                display_name="Administrator",
                role=StaffRole.ADMIN,
                password_hash=await Passwords().hash(password),
            )
        )
        return password


def _serve(args: argparse.Namespace, app_factory: AppFactory) -> int:
    def work() -> None:
        settings = settings_from(args)
        logging.basicConfig(
            level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        logging.getLogger("alembic").setLevel(logging.WARNING)

        async def prepare() -> str | None:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            database = Database(settings.database_url)
            try:
                await ensure_schema(database.engine)
                return await bootstrap_admin(database) if settings.bootstrap_admin else None
            finally:
                await database.close()

        first_password = asyncio.run(prepare())
        print(f"Virtual Visits is running: open {settings.base_url}/", flush=True)
        if first_password:
            print(
                f"First start: sign in as 'admin' with password {first_password} "
                "(shown once; change it after signing in).",
                flush=True,
            )
        else:
            print("Sign in with your staff account (create one: python run.py create-user).")
        web.run_app(
            app_factory(settings),
            host=settings.host,
            port=settings.port,
            print=None,
            access_log=logger if settings.log_level == "DEBUG" else None,
        )

    return run_command(work)


def _redacted(url: str) -> str:
    """A database URL without its password, for messages."""
    scheme, _, rest = url.partition("://")
    if "@" in rest:
        credentials, _, host = rest.rpartition("@")
        rest = f"{credentials.split(':')[0]}:***@{host}"
    return f"{scheme}://{rest}"
