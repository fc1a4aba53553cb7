"""Notifications go through the outbox to log, SMS webhook or SMTP, with retries; texts to
clients carry the time and the link only."""

from __future__ import annotations

import asyncio
import email
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller

from tests.scheduling import add_office_hours, days_ahead, eventually, outbox
from tests.test_command_line import free_port
from tests.world import add_case, add_team, book, link_persona, staff_persona
from visits.models import StaffRole


@pytest.fixture
async def sms_gateway(aiohttp_server) -> tuple[str, list[dict]]:  # type: ignore[no-untyped-def]
    """A local SMS gateway that fails its first request, then accepts."""
    received: list[dict] = []

    async def send(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "Bearer gw-secret":
            return web.Response(status=401)
        received.append(await request.json())
        if len(received) == 1:
            return web.Response(status=503, text="busy")
        return web.json_response({"id": len(received)})

    app = web.Application()
    app.router.add_post("/send", send)
    server = await aiohttp_server(app)
    return str(server.make_url("/send")), received


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server() -> AsyncIterator[tuple[int, Inbox]]:  # type: ignore[misc]
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


async def test_client_texts_carry_only_the_time_and_the_link(service, sms_gateway) -> None:
    """Booked, moved, cancelled: each text to the client names no person and no case, is
    retried after the gateway fails, and is kept with its link token blanked out."""
    url, received = sms_gateway
    client = await service(
        sms_webhook_url=url,
        sms_webhook_token="gw-secret",
        outbox_poll_seconds=0.1,
        outbox_retry_seconds=0.1,
    )
    team = await add_team(client, "North")
    worker = await staff_persona(client, "casey", StaffRole.CASEWORKER, team)
    await add_office_hours(client, worker)
    case, person = await add_case(client, worker, "N-4711", "Alice Alpha")
    booking = await book(client, worker, case, person, days_ahead(3, 9))
    visitor = link_persona("client", booking)
    await visitor.call(
        client, "POST", "/api/link/reschedule", json={"start_at": days_ahead(4, 10).isoformat()}
    )
    await visitor.call(client, "POST", "/api/link/cancel")

    async def all_sent() -> list:
        rows = await outbox(client, audience="client")
        return rows if len(rows) == 3 and all(r.status == "sent" for r in rows) else []

    rows = await eventually(all_sent)
    assert [r.kind for r in rows] == ["confirmed", "moved", "cancelled"]
    assert rows[0].attempts == 2
    assert "503" in rows[0].last_error or rows[0].last_error == ""
    texts = [message["body"] for message in received]
    assert len(texts) == 4  # the first try failed
    for text in texts:
        for secret in ("Alice", "Alpha", "N-4711", "Monthly check-in", "Casey"):
            assert secret not in text
        assert "/v/" in text
    assert {m["to"] for m in received} == {"+1 555 0100"}
    assert all("/v/…" in r.body for r in rows)


async def test_caseworker_gets_the_invite_by_email(service, smtp_server) -> None:  # type: ignore[no-untyped-def]
    """With SMTP set and a notify address, a new booking emails the caseworker an invite."""
    port, inbox = smtp_server
    client = await service(
        smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False, outbox_poll_seconds=0.1
    )
    team = await add_team(client, "North")
    worker = await staff_persona(client, "casey", StaffRole.CASEWORKER, team)
    await add_office_hours(client, worker, notify_email="casey@example.org")
    case, person = await add_case(client, worker, "N-5", "Alice Alpha")
    await book(client, worker, case, person, days_ahead(2, 9))

    async def delivered() -> list:
        await asyncio.sleep(0)
        return inbox.messages

    (message,) = await eventually(delivered)
    assert message["To"] == "casey@example.org"
    assert "N-5" in message["Subject"]
    parts = {part.get_content_type(): part for part in message.walk()}
    invite = parts["text/calendar"].get_payload(decode=True).decode()
    assert "METHOD:REQUEST" in invite
    assert "Alice" not in invite
