"""The one typed settings object, read from `VV_*` environment variables.

Everything configurable lives here so a deployment is described by its environment alone,
and a bad value stops start-up with a message naming the variable.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "VV_"


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the environment variable."""


def _split_list(value: Any) -> Any:
    """Accept `a,b,c` from the environment as well as a real list."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """Configuration of one Virtual Visits deployment."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    data_dir: Path = Field(Path("data"), description="Recordings, uploads and the SQLite file.")
    database_url: str = Field(
        "",
        description="SQLAlchemy async URL; empty means SQLite in the data directory.",
    )
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    base_url: str = Field("", description="Public URL that links in invites point to.")
    ice_host_addresses: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses the server's ICE agent offers (e.g. a public or NAT address).",
    )
    ice_servers: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="STUN/TURN URLs given to browsers and to the server, e.g. stun:host:3478.",
    )
    turn_username: str = ""
    turn_password: str = ""
    session_idle_minutes: int = Field(30, ge=1)
    session_max_hours: int = Field(12, ge=1)
    client_token_days: int = Field(
        30, ge=1, description="How long a client's link stays valid after the visit ends."
    )
    sign_in_max_failures: int = Field(5, ge=1)
    sign_in_window_minutes: int = Field(15, ge=1)
    visit_max_participants: int = Field(
        4, ge=2, le=8, description="People in one visit (caseworker, client, guests)."
    )
    visit_empty_grace_seconds: float = Field(
        60.0, ge=0, description="How long an emptied visit waits for someone to rejoin."
    )
    recording_video_fps: int = Field(5, ge=1, le=30)
    recording_video_width: int = Field(320, ge=64, le=1920)
    recording_video_height: int = Field(240, ge=48, le=1080)
    kiosk_pin_max_failures: int = Field(5, ge=1, le=20)
    bootstrap_admin: bool = Field(
        True, description="On a database with no staff, create `admin` and print its password."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # Scheduling (scheduler/): bookings, reminders, notifications, uploads.
    change_cutoff_minutes: int = Field(
        120, ge=0, le=10080, description="Clients may reschedule or cancel until this long before."
    )
    on_demand_minutes: int = Field(30, ge=5, le=480, description="Length of a visit started now.")
    reminder_minutes: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: [1440, 15],
        description="Remind clients this many minutes before each visit.",
    )
    no_show_minutes: int = Field(
        15, ge=1, le=480, description="A client not joined this long after the start is a no-show."
    )
    sms_webhook_url: str = Field("", description="HTTP endpoint of the SMS gateway; empty: log.")
    sms_webhook_token: str = Field("", description="Bearer token sent to the SMS gateway.")
    smtp_host: str = Field("", description="SMTP server for staff email; empty: log.")
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_starttls: bool = True
    smtp_username: str = ""
    smtp_password: str = ""
    mail_from: str = Field("visits@localhost", description="Sender of email and invite organizer.")
    outbox_max_attempts: int = Field(6, ge=1, le=100)
    outbox_retry_seconds: float = Field(30.0, gt=0, le=86400)
    outbox_poll_seconds: float = Field(2.0, gt=0, le=3600)
    upload_max_mb: int = Field(10, ge=1, le=1024, description="Largest document a client uploads.")

    # Audit, retention and encryption at rest (visits/retention.py, visits/crypto.py).
    retention_recording_days: int = Field(
        0, ge=0, le=36500, description="Delete recording files this many days old; 0 keeps them."
    )
    retention_transcript_days: int = Field(
        0, ge=0, le=36500, description="Delete transcripts this many days old; 0 keeps them."
    )
    retention_note_days: int = Field(
        0, ge=0, le=36500, description="Delete visit notes this many days old; 0 keeps them."
    )
    retention_audit_days: int = Field(
        0, ge=0, le=36500, description="Delete audit events this many days old; 0 keeps them."
    )
    retention_hour: int = Field(3, ge=0, le=23, description="UTC hour of the daily retention run.")
    recording_key: str = Field(
        "",
        description="Base64 of 32 random bytes: encrypt recordings at rest (AES-256-GCM).",
        repr=False,
    )
    # Transcription (transcription/): visit transcripts as persisted jobs in a process pool.
    transcription_engine: Literal["faster-whisper", "openai-whisper"] = "faster-whisper"
    transcription_model: str = Field(
        "", description="Model directory, checkpoint or name; empty: the bundled tiny.en."
    )
    transcription_workers: int = Field(1, ge=1, le=16, description="Transcription processes.")
    transcription_threads: int = Field(0, ge=0, le=64, description="CPU threads per process.")
    transcription_max_attempts: int = Field(4, ge=1, le=50)
    transcription_retry_seconds: float = Field(30.0, gt=0, le=86400)
    transcription_poll_seconds: float = Field(2.0, gt=0, le=3600)
    # Supervision (visits/supervision/): what puts a visit in the supervisor's review queue.
    review_unsigned_days: int = Field(
        3, ge=0, le=365, description="A held visit's note still unsigned this many days after."
    )
    review_short_visit_minutes: int = Field(
        5, ge=0, le=480, description="A held visit shorter than this many minutes."
    )
    review_no_show_repeat: int = Field(
        2, ge=2, le=50, description="A client who missed this many visits in the lookback."
    )
    review_lookback_days: int = Field(
        90, ge=1, le=3650, description="How far back the review queue and no-show counts look."
    )

    _split = field_validator("ice_host_addresses", "ice_servers", mode="before")(_split_list)
    _split_minutes = field_validator("reminder_minutes", mode="before")(_split_list)

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("base_url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        if value:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(
                    "must be an absolute http(s) URL such as https://visits.example.org"
                )
        return value.rstrip("/")

    @field_validator("ice_servers")
    @classmethod
    def _ice_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("stun:", "turn:", "turns:")):
                raise ValueError(f"{url!r} is not a stun:, turn: or turns: URL")
        return value

    @field_validator("reminder_minutes")
    @classmethod
    def _reminder_range(cls, value: list[int]) -> list[int]:
        for minutes in value:
            if not 1 <= minutes <= 20160:
                raise ValueError(f"{minutes} is not between 1 and 20160 minutes (two weeks)")
        return sorted(set(value), reverse=True)

    @field_validator("recording_key")
    @classmethod
    def _key_is_32_bytes(cls, value: str) -> str:
        if value:
            try:
                raw = base64.b64decode(value.strip(), validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("must be base64 (e.g. from `openssl rand -base64 32`)") from None
            if len(raw) != 32:
                raise ValueError(f"must decode to 32 bytes, not {len(raw)}")
        return value.strip()

    @field_validator("sms_webhook_url")
    @classmethod
    def _webhook_url(cls, value: str) -> str:
        if value:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(
                    "must be an absolute http(s) URL such as https://sms.example.org/send"
                )
        return value

    @field_validator("mail_from")
    @classmethod
    def _mail_address(cls, value: str) -> str:
        if "@" not in value or any(c in value for c in "\r\n"):
            raise ValueError("must be an email address such as visits@example.org")
        return value

    @model_validator(mode="after")
    def _fill_derived(self) -> Settings:
        # Derived defaults depend on other fields; the model is frozen, hence object.__setattr__.
        if not self.database_url:
            object.__setattr__(
                self, "database_url", f"sqlite+aiosqlite:///{self.data_dir / 'visits.db'}"
            )
        if not self.base_url:
            object.__setattr__(self, "base_url", f"http://{self.host}:{self.port}")
        return self

    @property
    def upload_max_bytes(self) -> int:
        return self.upload_max_mb * 1024 * 1024

    @property
    def recording_key_bytes(self) -> bytes | None:
        """The AES-256 key recordings are encrypted with, or None when encryption is off."""
        return base64.b64decode(self.recording_key) if self.recording_key else None

    @property
    def secure_cookies(self) -> bool:
        """Cookies get the Secure flag exactly when users reach us over https."""
        return self.base_url.startswith("https://")


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read settings from `environ` (default: the process environment) plus explicit overrides.

    Raises SettingsError naming every bad variable, so start-up fails with a useful message.
    """
    try:
        if environ is None:
            return Settings(**overrides)
        values = {
            key[len(ENV_PREFIX) :].lower(): value
            for key, value in environ.items()
            if key.startswith(ENV_PREFIX)
        }
        return Settings.model_validate({**values, **overrides})
    except ValidationError as error:
        problems = []
        for item in error.errors():
            name = f"{ENV_PREFIX}{str(item['loc'][0]).upper()}" if item["loc"] else "settings"
            message = str(item["msg"]).removeprefix("Value error, ")
            problems.append(f"{name}: {message}")
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None
