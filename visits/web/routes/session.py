"""Staff sign-in, sign-out and password change."""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, StringConstraints

from visits import audit
from visits.access import Audience
from visits.errors import NotSignedIn
from visits.models import StaffUser
from visits.web.api import Api, Call, json_response
from visits.web.auth import set_password
from visits.web.keys import AUTHENTICATOR
from visits.web.schemas import StaffOut


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class Me(BaseModel):
    user: StaffOut
    csrf_token: str


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Annotated[str, StringConstraints(max_length=1024)]
    new_password: Annotated[str, StringConstraints(max_length=1024)]


async def _me(call: Call[Any, Any]) -> Me:
    async with call.db.transaction() as session:
        user = await session.get(StaffUser, call.staff.user_id)
    return Me(user=StaffOut.model_validate(user), csrf_token=call.staff.csrf_token)


async def sign_in(call: Call[SignIn, None]) -> Any:
    authenticator = call.request.app[AUTHENTICATOR]
    signed_in = await authenticator.sign_in(call.request, call.body.username, call.body.password)
    async with call.db.transaction() as session:
        user = await session.get(StaffUser, signed_in.principal.user_id)
    me = Me(user=StaffOut.model_validate(user), csrf_token=signed_in.principal.csrf_token)
    response = json_response(me.model_dump(mode="json"))
    authenticator.set_cookie(response, signed_in.cookie_value)
    return response


async def current_session(call: Call[None, None]) -> Me:
    return await _me(call)


async def sign_out(call: Call[None, None]) -> Any:
    authenticator = call.request.app[AUTHENTICATOR]
    await authenticator.sign_out(call.request)
    async with call.db.transaction() as session:
        await audit.append(session, call.actor, "staff.sign_out", "staff_user", call.staff.user_id)
    response = web.Response(status=204)
    authenticator.clear_cookie(response)
    return response


async def change_password(call: Call[PasswordChange, None]) -> None:
    passwords = call.request.app[AUTHENTICATOR].passwords
    async with call.db.transaction() as session:
        user = await session.get(StaffUser, call.staff.user_id)
        assert user is not None
        if not await passwords.verify(user.password_hash, call.body.current_password):
            raise NotSignedIn("The current password is wrong.")
        await set_password(session, passwords, user, call.body.new_password)
        await audit.append(session, call.actor, "staff.password_change", "staff_user", user.id)


def register(api: Api) -> None:
    route = api.route
    route(
        "POST",
        "/api/session",
        summary="Sign in as staff",
        audience=Audience.ANYONE,
        body=SignIn,
        response=Me,
        tag="session",
        errors=(400, 401, 429),
    )(sign_in)
    route(
        "GET",
        "/api/session",
        summary="Who is signed in, with the CSRF token",
        audience=Audience.STAFF,
        response=Me,
        tag="session",
    )(current_session)
    route(
        "DELETE",
        "/api/session",
        summary="Sign out",
        audience=Audience.STAFF,
        tag="session",
    )(sign_out)
    route(
        "POST",
        "/api/session/password",
        summary="Change my password (ends my sessions)",
        audience=Audience.STAFF,
        body=PasswordChange,
        tag="session",
    )(change_password)
