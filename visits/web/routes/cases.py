"""Cases and their clients, for the caseworkers and supervisors who may see them."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from visits import audit
from visits.access import (
    Audience,
    assignable_caseworker,
    case_for,
    case_scope,
    client_scope,
    may_change_case,
)
from visits.errors import Conflict, Forbidden, NotFound
from visits.models import Case, CaseStatus, Client, StaffRole, case_clients
from visits.web.api import Api, Call
from visits.web.schemas import (
    CaseDetail,
    CaseOut,
    ClientIn,
    ClientOut,
    LanguageTag,
    Name,
    Phone,
    refuse_nulls,
)

CaseNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9/._-]{0,39}$")
]


class CaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_number: CaseNumber
    title: Annotated[str, Field(max_length=200)] = ""
    caseworker_id: uuid.UUID | None = Field(
        None, description="Defaults to the caseworker creating the case."
    )
    clients: Annotated[list[ClientIn], Field(min_length=1, max_length=70)]


class CaseChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, Field(max_length=200)] | None = None
    status: CaseStatus | None = None
    caseworker_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> CaseChange:
        refuse_nulls(self, ("title", "status", "caseworker_id"))
        return self


class ClientChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: Name | None = None
    preferred_language: LanguageTag | None = None
    phone: Phone | None = None  # null removes the phone number

    @model_validator(mode="after")
    def _no_nulls(self) -> ClientChange:
        refuse_nulls(self, ("full_name", "preferred_language"))
        return self


class CaseSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: Annotated[str, Field(max_length=100)] = ""


def _detail(case: Case) -> CaseDetail:
    return CaseDetail.model_validate(case)


async def _load_case(session, principal, case_id: uuid.UUID) -> Case:  # type: ignore[no-untyped-def]
    await case_for(session, principal, case_id)
    case = await session.scalar(
        select(Case).options(selectinload(Case.clients)).where(Case.id == case_id)
    )
    assert case is not None
    return case


async def list_cases(call: Call[None, CaseSearch]) -> list[CaseOut]:
    query = select(Case).where(case_scope(call.principal)).order_by(Case.case_number)
    if term := call.query.q.strip():
        pattern = f"%{term.lower()}%"
        with_client = (
            select(case_clients.c.case_id)
            .join(Client, Client.id == case_clients.c.client_id)
            .where(Client.full_name.ilike(pattern))
        )
        query = query.where(or_(Case.case_number.ilike(pattern), Case.id.in_(with_client)))
    async with call.db.transaction() as session:
        return [CaseOut.model_validate(case) for case in await session.scalars(query.limit(500))]


async def create_case(call: Call[CaseIn, None]) -> CaseDetail:
    body = call.body
    staff = call.staff
    try:
        async with call.db.transaction() as session:
            caseworker = await assignable_caseworker(
                session, staff, body.caseworker_id or staff.user_id
            )
            assert caseworker.team_id is not None
            case = Case(case_number=body.case_number, title=body.title, caseworker_id=caseworker.id)
            case.clients = [
                Client(team_id=caseworker.team_id, **c.model_dump()) for c in body.clients
            ]
            session.add(case)
            await session.flush()
            await audit.append(session, call.actor, "case.create", "case", case.id)
    except IntegrityError:
        raise Conflict(f"Case number {body.case_number!r} exists already.") from None
    return _detail(case)


async def get_case(call: Call[None, None]) -> CaseDetail:
    async with call.db.transaction() as session:
        case = await _load_case(session, call.principal, call.ids["case_id"])
        await audit.append(session, call.actor, "case.view", "case", case.id)
        return _detail(case)


async def change_case(call: Call[CaseChange, None]) -> CaseDetail:
    changed = call.body.model_dump(exclude_unset=True)
    async with call.db.transaction() as session:
        case = await _load_case(session, call.principal, call.ids["case_id"])
        if not may_change_case(call.principal, case):
            raise Forbidden("Only the assigned caseworker or a supervisor may change this case.")
        if "caseworker_id" in changed:
            if call.staff.role is not StaffRole.SUPERVISOR:
                raise Forbidden("Only a supervisor reassigns cases.")
            await assignable_caseworker(session, call.principal, changed["caseworker_id"])
        for name, value in changed.items():
            setattr(case, name, value)
        await audit.append(
            session, call.actor, "case.change", "case", case.id, details={"fields": sorted(changed)}
        )
        return _detail(case)


async def add_client(call: Call[ClientIn, None]) -> ClientOut:
    async with call.db.transaction() as session:
        case = await _load_case(session, call.principal, call.ids["case_id"])
        if not may_change_case(call.principal, case):
            raise Forbidden("Only the assigned caseworker or a supervisor may change this case.")
        client = Client(team_id=call.staff.team_id, **call.body.model_dump())
        case.clients.append(client)
        await session.flush()
        await audit.append(session, call.actor, "client.create", "client", client.id)
        return ClientOut.model_validate(client)


async def change_client(call: Call[ClientChange, None]) -> ClientOut:
    client_id = call.ids["client_id"]
    async with call.db.transaction() as session:
        client = await session.scalar(
            select(Client).where(Client.id == client_id, client_scope(call.principal))
        )
        if client is None:
            raise NotFound(f"No client {client_id} that you can see.")
        changed = call.body.model_dump(exclude_unset=True)
        for name, value in changed.items():
            setattr(client, name, value)
        await audit.append(
            session,
            call.actor,
            "client.change",
            "client",
            client.id,
            details={"fields": sorted(changed)},
        )
        return ClientOut.model_validate(client)


def register(api: Api) -> None:
    route = api.route
    route(
        "GET",
        "/api/cases",
        summary="Cases I may see; q searches case number and client names",
        audience=Audience.CASE_STAFF,
        query=CaseSearch,
        response=list[CaseOut],
        tag="cases",
    )(list_cases)
    route(
        "POST",
        "/api/cases",
        summary="Open a case with its clients",
        audience=Audience.CASE_STAFF,
        body=CaseIn,
        response=CaseDetail,
        status=201,
        tag="cases",
        errors=(404, 409),
    )(create_case)
    route(
        "GET",
        "/api/cases/{case_id}",
        summary="One case with its clients",
        audience=Audience.CASE_STAFF,
        response=CaseDetail,
        tag="cases",
    )(get_case)
    route(
        "PATCH",
        "/api/cases/{case_id}",
        summary="Change a case (supervisors reassign)",
        audience=Audience.CASE_STAFF,
        body=CaseChange,
        response=CaseDetail,
        tag="cases",
    )(change_case)
    route(
        "POST",
        "/api/cases/{case_id}/clients",
        summary="Add a client to a case",
        audience=Audience.CASE_STAFF,
        body=ClientIn,
        response=ClientOut,
        status=201,
        tag="cases",
    )(add_client)
    route(
        "PATCH",
        "/api/clients/{client_id}",
        summary="Change a client's name, language or phone",
        audience=Audience.CASE_STAFF,
        body=ClientChange,
        response=ClientOut,
        tag="cases",
    )(change_client)
