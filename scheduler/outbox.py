"""The notification outbox: messages are rows written with the change that caused them, and
one sender per process delivers them through a channel, retrying with backoff.

Channels: `log` (the default: the message goes to the server log), `sms` (POST to the
configured SMS gateway webhook) and `email` (SMTP). A row is claimed by pushing its next
attempt out by a lease before sending, so a crash mid-send only means one more try later;
delivery is at least once. A sent message keeps its body with link tokens blanked out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import smtplib
import ssl
from collections.abc import AsyncIterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Protocol

import aiohttp
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.models import Channel, Notification, NotificationStatus
from visits.db import Database, utcnow
from visits.settings import Settings

logger = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=1)
BATCH = 20
_TOKEN_IN_LINK = re.compile(r"(/v/)[A-Za-z0-9_-]{20,}")


class DeliveryError(Exception):
    """A channel could not deliver; the message says why (kept as last_error)."""


def redact_links(text: str) -> str:
    """The text with the secret part of every join link blanked out."""
    return _TOKEN_IN_LINK.sub(r"\1…", text)


async def enqueue(
    session: AsyncSession,
    *,
    dedupe_key: str,
    channel: Channel,
    recipient: str,
    body: str,
    audience: str,
    kind: str,
    booking_id: object = None,
    subject: str = "",
    attachment: str | None = None,
) -> bool:
    """Add a message in the caller's transaction; False if that dedupe key was queued before."""
    existing = await session.scalar(
        select(Notification.id).where(Notification.dedupe_key == dedupe_key)
    )
    if existing is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(
                Notification(
                    dedupe_key=dedupe_key,
                    booking_id=booking_id,
                    audience=audience,
                    kind=kind,
                    channel=channel,
                    recipient=recipient,
                    subject=subject,
                    body=body,
                    attachment=attachment,
                )
            )
    except IntegrityError:
        return False  # queued by a concurrent transaction just now
    return True


class Transport(Protocol):
    async def send(self, message: Notification) -> None: ...


class LogTransport:
    async def send(self, message: Notification) -> None:
        logger.info(
            "notification %s (%s) to %s: %s",
            message.id,
            message.kind,
            message.recipient,
            message.body,
        )


class SmsWebhook:
    """POSTs {"to", "body"} as JSON to the SMS gateway; any 2xx answer means accepted."""

    def __init__(self, url: str, token: str, http: aiohttp.ClientSession) -> None:
        self.url = url
        self.token = token
        self.http = http

    async def send(self, message: Notification) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            async with self.http.post(
                self.url,
                json={"to": message.recipient, "body": message.body},
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=20),
            ) as response:
                if response.status >= 300:
                    detail = (await response.text())[:200]
                    raise DeliveryError(f"SMS gateway answered {response.status}: {detail}")
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryError(f"SMS gateway unreachable: {error!r}") from None


class SmtpMailer:
    """Sends email through SMTP (in a worker thread: smtplib blocks)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, message: Notification) -> None:
        email = EmailMessage()
        email["From"] = self.settings.mail_from
        email["To"] = message.recipient
        email["Subject"] = message.subject or "Virtual Visits"
        email.set_content(message.body)
        if message.attachment:
            method = "CANCEL" if "METHOD:CANCEL" in message.attachment else "REQUEST"
            email.add_attachment(
                message.attachment.encode(),
                maintype="text",
                subtype="calendar",
                filename="invite.ics",
                params={"method": method},
            )
        try:
            await asyncio.to_thread(self._send, email)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(f"SMTP: {error!r}") from None

    def _send(self, email: EmailMessage) -> None:
        settings = self.settings
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(email)


class Sender:
    """Delivers due outbox rows; one per process, owned by the scheduler room."""

    def __init__(self, db: Database, settings: Settings, http: aiohttp.ClientSession) -> None:
        self.db = db
        self.settings = settings
        self.transports: dict[Channel, Transport] = {
            Channel.LOG: LogTransport(),
            Channel.SMS: SmsWebhook(settings.sms_webhook_url, settings.sms_webhook_token, http),
            Channel.EMAIL: SmtpMailer(settings),
        }
        self._wake = asyncio.Event()

    def client_channel(self) -> Channel:
        return Channel.SMS if self.settings.sms_webhook_url else Channel.LOG

    def staff_channel(self) -> Channel:
        return Channel.EMAIL if self.settings.smtp_host else Channel.LOG

    def wake(self) -> None:
        """Look at the outbox now (something was just queued)."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled."""
        while True:
            try:
                while await self.deliver_due():
                    pass
            except Exception:
                logger.exception("outbox sender failed; trying again")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.outbox_poll_seconds)

    async def deliver_due(self) -> int:
        """Send the messages that are due now; returns how many were tried."""
        now = utcnow()
        async with self.db.transaction() as session:
            query = (
                select(Notification)
                .where(
                    Notification.status == NotificationStatus.PENDING,
                    Notification.next_attempt_at <= now,
                )
                .order_by(Notification.next_attempt_at, Notification.id)
                .limit(BATCH)
            )
            if self.db.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            due = list(await session.scalars(query))
            for message in due:
                message.attempts += 1
                message.next_attempt_at = now + CLAIM_LEASE
        for message in due:
            await self._deliver(message)
        return len(due)

    async def _deliver(self, message: Notification) -> None:
        error = ""
        try:
            await self.transports[message.channel].send(message)
        except DeliveryError as failure:
            error = str(failure)
        except Exception as failure:
            logger.exception("notification %s: unexpected failure", message.id)
            error = repr(failure)
        async with self.db.transaction() as session:
            row = await session.get(Notification, message.id)
            if row is None:
                return
            if not error:
                row.status = NotificationStatus.SENT
                row.sent_at = utcnow()
                row.last_error = ""
                row.body = redact_links(row.body)
                row.attachment = redact_links(row.attachment) if row.attachment else None
                return
            row.last_error = error[:2000]
            if row.attempts >= self.settings.outbox_max_attempts:
                row.status = NotificationStatus.FAILED
                logger.warning("notification %s failed for good: %s", row.id, error)
            else:
                backoff = timedelta(
                    seconds=self.settings.outbox_retry_seconds * 2 ** (row.attempts - 1)
                )
                row.next_attempt_at = utcnow() + min(backoff, MAX_BACKOFF)
                logger.info("notification %s: attempt %s failed: %s", row.id, row.attempts, error)


async def sending(sender: Sender) -> AsyncIterator[None]:
    """The sender's lifetime: a task from start-up to clean-up."""
    task = asyncio.create_task(sender.run(), name="outbox-sender")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
