"""Teams and staff accounts: managed by administrators, who see no case content."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from visits import audit
from visits.access import Audience, staff_scope
from visits.errors import Conflict, InvalidInput, NotFound
from visits.models import StaffRole, StaffUser, Team
from visits.security import check_password_strength
from visits.web.api import Api, Call
from visits.web.auth import set_password
from visits.web.keys import AUTHENTICATOR
from visits.web.schemas import Name, StaffOut, TeamOut

Username = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z0-9._-]{2,64}$")
]
Password = Annotated[str, StringConstraints(max_length=1024)]


class TeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name


class StaffIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    display_name: Name
    role: StaffRole
    team_id: uuid.UUID | None = None
    password: Password


class StaffChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: Name | None = None
    role: StaffRole | None = None
    team_id: uuid.UUID | None = None
    active: bool | None = None
    password: Password | None = None


async def list_teams(call: Call[None, None]) -> list[TeamOut]:
    async with call.db.transaction() as session:
        teams = await session.scalars(select(Team).order_by(Team.name))
        return [TeamOut.model_validate(team) for team in teams]


async def create_team(call: Call[TeamIn, None]) -> TeamOut:
    try:
        async with call.db.transaction() as session:
            team = Team(name=call.body.name)
            session.add(team)
            await session.flush()
            await audit.append(session, call.actor, "team.create", "team", team.id)
    except IntegrityError:
        raise Conflict(f"A team named {call.body.name!r} exists already.") from None
    return TeamOut.model_validate(team)


async def _check_team(session: Any, role: StaffRole, team_id: uuid.UUID | None) -> None:
    if role is not StaffRole.ADMIN and team_id is None:
        raise InvalidInput(f"A {role.value} must belong to a team: give team_id.")
    if team_id is not None and await session.get(Team, team_id) is None:
        raise NotFound(f"No team {team_id}.")


async def list_staff(call: Call[None, None]) -> list[StaffOut]:
    async with call.db.transaction() as session:
        users = await session.scalars(
            select(StaffUser).where(staff_scope(call.principal)).order_by(StaffUser.username)
        )
        return [StaffOut.model_validate(user) for user in users]


async def create_staff(call: Call[StaffIn, None]) -> StaffOut:
    body = call.body
    if problem := check_password_strength(body.password):
        raise InvalidInput(problem)
    passwords = call.request.app[AUTHENTICATOR].passwords
    try:
        async with call.db.transaction() as session:
            await _check_team(session, body.role, body.team_id)
            user = StaffUser(
                username=body.username,
                display_name=body.display_name,
                role=body.role,
                team_id=body.team_id,
                password_hash=await passwords.hash(body.password),
            )
            session.add(user)
            await session.flush()
            await audit.append(
                session,
                call.actor,
                "staff.create",
                "staff_user",
                user.id,
                details={"role": body.role.value},
            )
    except IntegrityError:
        raise Conflict(f"The username {body.username!r} is taken.") from None
    return StaffOut.model_validate(user)


async def change_staff(call: Call[StaffChange, None]) -> StaffOut:
    body = call.body
    passwords = call.request.app[AUTHENTICATOR].passwords
    async with call.db.transaction() as session:
        user = await session.get(StaffUser, call.ids["user_id"])
        if user is None:
            raise NotFound(f"No staff user {call.ids['user_id']}.")
        changed = body.model_dump(exclude_unset=True, exclude={"password"})
        if user.id == call.staff.user_id and (
            changed.get("active") is False
            or changed.get("role", StaffRole.ADMIN) is not StaffRole.ADMIN
        ):
            raise Conflict("You cannot demote or deactivate your own account.")
        role = body.role or user.role
        team_id = body.team_id if "team_id" in changed else user.team_id
        await _check_team(session, role, team_id)
        for name, value in changed.items():
            setattr(user, name, value)
        if body.password is not None:
            await set_password(session, passwords, user, body.password)
        await audit.append(
            session,
            call.actor,
            "staff.change",
            "staff_user",
            user.id,
            details={"fields": sorted(body.model_dump(exclude_unset=True))},
        )
    return StaffOut.model_validate(user)


def register(api: Api) -> None:
    route = api.route
    route(
        "GET",
        "/api/teams",
        summary="All teams",
        audience=Audience.ADMIN,
        response=list[TeamOut],
        tag="admin",
    )(list_teams)
    route(
        "POST",
        "/api/teams",
        summary="Create a team",
        audience=Audience.ADMIN,
        body=TeamIn,
        response=TeamOut,
        status=201,
        tag="admin",
        errors=(409,),
    )(create_team)
    route(
        "GET",
        "/api/staff",
        summary="Staff accounts (admins: all; others: their team)",
        audience=Audience.STAFF,
        response=list[StaffOut],
        tag="admin",
    )(list_staff)
    route(
        "POST",
        "/api/staff",
        summary="Create a staff account",
        audience=Audience.ADMIN,
        body=StaffIn,
        response=StaffOut,
        status=201,
        tag="admin",
        errors=(409,),
    )(create_staff)
    route(
        "PATCH",
        "/api/staff/{user_id}",
        summary="Change a staff account: name, role, team, active, password reset",
        audience=Audience.ADMIN,
        body=StaffChange,
        response=StaffOut,
        tag="admin",
        errors=(409,),
    )(change_staff)
