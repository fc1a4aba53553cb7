"""Building people, cases and bookings for tests, and calling the API as one of them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from visits.db import Database
from visits.models import Case, Client, StaffRole, StaffUser, Team
from visits.security import Passwords
from visits.web.keys import DATABASE

PASSWORD = "correct horse battery"

# One hasher for the test run: building it computes a decoy hash.
_passwords = Passwords()


@dataclass
class Persona:
    """Someone calling the API: a staff session (cookie + CSRF), a join link, or nobody."""

    name: str
    cookie: str = ""
    csrf: str = ""
    link_token: str = ""
    user_id: uuid.UUID | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def headers(self, method: str) -> dict[str, str]:
        headers = {}
        if self.cookie:
            headers["Cookie"] = f"vv_session={self.cookie}"
            if method != "GET" and self.csrf:
                headers["X-CSRF-Token"] = self.csrf
        if self.link_token:
            headers["Authorization"] = f"Bearer {self.link_token}"
        return headers

    async def call(
        self, client: TestClient, method: str, path: str, json: Any = None, **kwargs: Any
    ) -> ClientResponse:
        headers = self.headers(method) | kwargs.pop("headers", {})
        return await client.request(method, path, json=json, headers=headers, **kwargs)


ANONYMOUS = Persona("anonymous")


def database(client: TestClient) -> Database:
    return client.server.app[DATABASE]


async def add_team(client: TestClient, name: str) -> Team:
    async with database(client).transaction() as session:
        team = Team(name=name)
        session.add(team)
    return team


async def add_staff(
    client: TestClient, username: str, role: StaffRole, team: Team | None
) -> StaffUser:
    async with database(client).transaction() as session:
        user = StaffUser(
            username=username,
            display_name=username.title(),
            role=role,
            team_id=team.id if team else None,
            password_hash=await _passwords.hash(PASSWORD),
        )
        session.add(user)
    return user


async def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> Persona:
    response = await client.post("/api/session", json={"username": username, "password": password})
    assert response.status == 200, await response.text()
    body = await response.json()
    return Persona(
        username,
        cookie=response.cookies["vv_session"].value,
        csrf=body["csrf_token"],
        user_id=uuid.UUID(body["user"]["id"]),
    )


async def staff_persona(
    client: TestClient, username: str, role: StaffRole, team: Team | None
) -> Persona:
    await add_staff(client, username, role, team)
    return await sign_in(client, username)


async def add_case(
    client: TestClient, caseworker: StaffUser | Persona, number: str, client_name: str
) -> tuple[Case, Client]:
    """A case assigned to `caseworker` with one client, made directly in the database."""
    async with database(client).transaction() as session:
        worker = await session.get(
            StaffUser, caseworker.user_id if isinstance(caseworker, Persona) else caseworker.id
        )
        assert worker is not None
        assert worker.team_id is not None
        person = Client(team_id=worker.team_id, full_name=client_name, phone="+1 555 0100")
        case = Case(case_number=number, title=f"Case {number}", caseworker_id=worker.id)
        case.clients = [person]
        session.add(case)
    return case, person


def tomorrow_at(hour: int, minutes: int = 0) -> datetime:
    base = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return base + timedelta(days=1, hours=hour, minutes=minutes)


async def book(
    client: TestClient,
    caseworker: Persona,
    case: Case,
    person: Client,
    start: datetime | None = None,
) -> dict[str, Any]:
    """Book a 30-minute visit through the API; answers with the booking and client link."""
    start = start or tomorrow_at(15)
    response = await caseworker.call(
        client,
        "POST",
        f"/api/cases/{case.id}/bookings",
        json={
            "client_id": str(person.id),
            "start_at": start.isoformat(),
            "end_at": (start + timedelta(minutes=30)).isoformat(),
            "time_zone": "America/Chicago",
            "purpose": "Monthly check-in",
        },
    )
    assert response.status == 201, await response.text()
    return await response.json()


def link_persona(name: str, booking: dict[str, Any]) -> Persona:
    token = booking["client_link"]["url"].rsplit("/", 1)[1]
    return Persona(name, link_token=token, extra={"booking_id": booking["booking"]["id"]})
