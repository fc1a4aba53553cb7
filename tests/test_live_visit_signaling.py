"""The visit WebSocket: validation, order, roles, the lobby, guests and kiosks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiohttp import WSServerHandshakeError
from sqlalchemy import select, update

from tests.live import LIVE_SETTINGS, eventually, live_booking
from tests.world import ANONYMOUS, add_team, database, staff_persona
from visits.db import utcnow
from visits.models import AccessToken, Booking, BookingStatus, StaffRole


async def test_messages_must_start_with_hello_and_be_valid(service) -> None:  # type: ignore[no-untyped-def]
    """Garbage, unknown types, missing fields and early messages get errors naming the problem,
    and the socket stays usable."""
    client = await service(**LIVE_SETTINGS)
    visit = await live_booking(client)
    person = visit.by_link()
    await person.connect()
    await person.send_raw("{not json")
    assert (await person.expect("error"))["code"] == "invalid_json"
    await person.send(type="dance")
    assert (await person.expect("error"))["code"] == "unknown_type"
    await person.send(type="offer", sdp="v=0 something")
    error = await person.expect("error")
    assert error["code"] == "hello_first"
    assert error["in_reply_to"] == "offer"
    await person.send(type="consent", choice="maybe", notice_version="1", language="en")
    assert "choice" in (await person.expect("error"))["message"]
    await person.send(type="hello", token=visit.client_link.link_token)
    person.welcome = await person.expect("welcome")
    await person.send(type="hello", token=visit.client_link.link_token)
    assert (await person.expect("error"))["code"] == "out_of_order"
    await person.close()


async def test_clients_cannot_act_as_staff_or_connect_before_admission(service) -> None:  # type: ignore[no-untyped-def]
    """A client may not admit, end the visit, or send media before being let in and answering
    the recording notice."""
    client = await service(**LIVE_SETTINGS)
    visit = await live_booking(client)
    person = visit.by_link()
    await person.join()
    await person.send(type="offer", sdp="v=0 placeholder sdp")
    assert (await person.expect("error"))["code"] == "not_admitted"
    await person.send(type="admit", participant_id=person.welcome["participant_id"])
    assert (await person.expect("error"))["code"] == "not_allowed"
    await person.send(type="end")
    assert (await person.expect("error"))["code"] == "not_allowed"
    caseworker = visit.staff()
    await caseworker.join()
    waiting = await caseworker.waiting()
    await caseworker.send(type="admit", participant_id=waiting[0]["participant_id"])
    await person.expect("admitted")
    await person.send(type="offer", sdp="v=0 placeholder sdp")
    assert (await person.expect("error"))["code"] == "consent_first"
    await person.consent()
    await person.send(type="offer", sdp="v=0 not really sdp")
    assert (await person.expect("error"))["code"] == "invalid_sdp"
    await person.send(type="consent", choice="accepted", language="en", notice_version="0")
    assert (await person.expect("error"))["code"] == "already_answered"
    await caseworker.send(type="admit", participant_id="nobody")
    assert (await caseworker.expect("error"))["code"] == "unknown_participant"
    await person.close()
    await caseworker.close()


async def test_only_the_case_staff_and_valid_links_get_in(service) -> None:  # type: ignore[no-untyped-def]
    """Other teams' staff, admins, wrong or expired links, and other sites' pages are refused."""
    client = await service(**LIVE_SETTINGS)
    visit = await live_booking(client)
    admin = await staff_persona(client, "root", StaffRole.ADMIN, None)
    other_team = await add_team(client, "South")
    stranger = await staff_persona(client, "other", StaffRole.CASEWORKER, other_team)
    for persona, code in (
        (stranger, "not_found"),
        (admin, "forbidden"),
        (ANONYMOUS, "not_signed_in"),
    ):
        intruder = visit.staff(persona)
        await intruder.connect()
        await intruder.send(type="hello", booking_id=str(visit.booking_id))
        assert (await intruder.expect("error"))["code"] == code
        await intruder.close()

    wrong = visit.by_link("x" * 43)
    await wrong.connect()
    await wrong.send(type="hello", token="x" * 43)
    assert (await wrong.expect("error"))["code"] == "not_signed_in"
    await wrong.close()

    async with database(client).transaction() as session:
        await session.execute(
            update(AccessToken).values(expires_at=utcnow() - timedelta(minutes=1))
        )
    expired = visit.by_link()
    await expired.connect()
    await expired.send(type="hello", token=visit.client_link.link_token)
    assert "expired" in (await expired.expect("error"))["message"]
    await expired.close()

    with pytest.raises(WSServerHandshakeError, match="403"):
        await visit.by_link().connect(Origin="https://evil.example")


async def test_staff_see_the_lobby_and_guests_join_with_their_own_role(service) -> None:  # type: ignore[no-untyped-def]
    """An interpreter invited with their own link waits in the lobby under their role and name;
    clients do not see people still waiting."""
    client = await service(**LIVE_SETTINGS)
    visit = await live_booking(client)
    response = await visit.caseworker.call(
        client,
        "POST",
        f"/api/bookings/{visit.booking_id}/links",
        json={"role": "interpreter", "display_name": "Ana Interpreter"},
    )
    interpreter_token = (await response.json())["url"].rsplit("/", 1)[1]
    caseworker = visit.staff()
    await caseworker.join()
    person = visit.by_link()
    await person.join()
    interpreter = visit.by_link(interpreter_token)
    welcome = await interpreter.join()
    assert welcome["role"] == "interpreter"
    assert welcome["name"] == "Ana Interpreter"
    message = await caseworker.expect("participants", lambda m: len(m["participants"]) == 2)
    assert sorted((p["role"], p["name"], p["admitted"]) for p in message["participants"]) == [
        ("client", "Dana Client", False),
        ("interpreter", "Ana Interpreter", False),
    ]
    # The client sees the caseworker, not the interpreter still waiting.
    seen = await person.expect("participants", lambda m: len(m["participants"]) >= 1)
    assert [p["role"] for p in seen["participants"]] == ["caseworker"]
    live = await visit.caseworker.call(client, "GET", f"/api/bookings/{visit.booking_id}/live")
    assert sorted(p["role"] for p in (await live.json())["participants"]) == [
        "caseworker",
        "client",
        "interpreter",
    ]
    today = await visit.caseworker.call(client, "GET", "/api/visits/today?time_zone=UTC")
    assert today.status == 200
    for who in (interpreter, person, caseworker):
        await who.close()


async def test_a_client_who_joins_is_not_marked_no_show_and_one_who_never_comes_stays_away(
    service,  # type: ignore[no-untyped-def]
) -> None:
    """Arriving in the lobby records that the client came."""
    client = await service(**LIVE_SETTINGS)
    visit = await live_booking(client)
    person = visit.by_link()
    await person.join()

    async def arrived() -> bool:
        booking, _ = await visit.stored()
        return booking.client_joined_at is not None

    await eventually(arrived)
    booking, _ = await visit.stored()
    assert booking.status is BookingStatus.SCHEDULED
    await person.close()


async def test_kiosk_code_and_pin_admit_the_client_and_lock_after_wrong_pins(service) -> None:  # type: ignore[no-untyped-def]
    """Staff issue a code and PIN; the right PIN yields a short-lived kiosk join token, wrong
    PINs are counted and lock the code until staff issue a new one."""
    client = await service(**LIVE_SETTINGS, kiosk_pin_max_failures=3)
    visit = await live_booking(client)
    issued = await visit.caseworker.call(
        client, "POST", f"/api/bookings/{visit.booking_id}/kiosk-code"
    )
    assert issued.status == 201
    code = await issued.json()
    assert len(code["code"]) == 6
    assert len(code["pin"]) == 6

    sign_in = await ANONYMOUS.call(
        client, "POST", "/api/kiosk/sign-in", json={"code": code["code"], "pin": code["pin"]}
    )
    assert sign_in.status == 200
    kiosk = await sign_in.json()
    assert kiosk["language"] == "en"
    at_kiosk = visit.by_link(kiosk["token"])
    welcome = await at_kiosk.join()
    assert welcome["role"] == "client"
    await at_kiosk.close()
    # The kiosk link did not revoke the client's own link.
    assert (await visit.client_link.call(client, "GET", "/api/link/booking")).status == 200

    wrong_pin = "000000" if code["pin"] != "000000" else "111111"
    for _ in range(3):
        refused = await ANONYMOUS.call(
            client, "POST", "/api/kiosk/sign-in", json={"code": code["code"], "pin": wrong_pin}
        )
        assert refused.status == 401
        assert "do not match" in (await refused.json())["message"]
    locked = await ANONYMOUS.call(
        client, "POST", "/api/kiosk/sign-in", json={"code": code["code"], "pin": code["pin"]}
    )
    assert locked.status == 403
    assert "locked" in (await locked.json())["message"]
    fresh = await (
        await visit.caseworker.call(client, "POST", f"/api/bookings/{visit.booking_id}/kiosk-code")
    ).json()
    again = await ANONYMOUS.call(
        client, "POST", "/api/kiosk/sign-in", json={"code": fresh["code"], "pin": fresh["pin"]}
    )
    assert again.status == 200
    malformed = await ANONYMOUS.call(
        client, "POST", "/api/kiosk/sign-in", json={"code": "12", "pin": "abc"}
    )
    assert malformed.status == 400


async def test_kiosk_links_stop_working_when_the_visit_ends(service) -> None:  # type: ignore[no-untyped-def]
    """After the visit nothing the kiosk held can reach it again."""
    client = await service(**LIVE_SETTINGS)
    visit = await live_booking(client)
    code = await (
        await visit.caseworker.call(client, "POST", f"/api/bookings/{visit.booking_id}/kiosk-code")
    ).json()
    kiosk = await (
        await ANONYMOUS.call(
            client, "POST", "/api/kiosk/sign-in", json={"code": code["code"], "pin": code["pin"]}
        )
    ).json()
    caseworker = visit.staff()
    await caseworker.join()
    at_kiosk = visit.by_link(kiosk["token"])
    await at_kiosk.join()
    waiting = await caseworker.waiting()
    await caseworker.send(type="admit", participant_id=waiting[0]["participant_id"])
    await at_kiosk.expect("admitted")
    await caseworker.send(type="end")
    await at_kiosk.expect("ended")

    async def completed() -> bool:
        booking, _ = await visit.stored()
        return booking.status is BookingStatus.COMPLETED

    await eventually(completed)
    back = visit.by_link(kiosk["token"])
    await back.connect()
    await back.send(type="hello", token=kiosk["token"])
    assert (await back.expect("error"))["code"] == "not_signed_in"
    await back.close()
    async with database(client).transaction() as session:
        kiosk_links = list(
            await session.scalars(select(AccessToken).where(AccessToken.kiosk.is_(True)))
        )
        booking = await session.get(Booking, visit.booking_id)
    assert kiosk_links
    assert all(link.revoked_at is not None for link in kiosk_links)
    assert booking is not None
    # A completed visit issues no new kiosk codes.
    gone = await visit.caseworker.call(
        client, "POST", f"/api/bookings/{visit.booking_id}/kiosk-code"
    )
    assert gone.status == 410
