"""Who may reach what. Every authorization rule of the service lives in this module.

Routes declare the kind of caller they serve (`Audience`); handlers fetch objects only through
the `*_for` functions here, which hide what the caller may not see behind a plain 404 (so ids
cannot be probed).
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from visits.errors import Forbidden, NotFound, NotSignedIn
from visits.models import (
    Booking,
    Case,
    Client,
    LegalHold,
    ParticipantRole,
    Recording,
    StaffRole,
    StaffUser,
    VisitNote,
    case_clients,
)


@dataclass(frozen=True)
class StaffPrincipal:
    """A signed-in staff member (cookie session)."""

    user_id: uuid.UUID
    username: str
    display_name: str
    role: StaffRole
    team_id: uuid.UUID | None
    csrf_token: str


@dataclass(frozen=True)
class LinkPrincipal:
    """Someone holding a booking's join link: the client or a guest. Reaches that booking only."""

    token_id: uuid.UUID
    booking_id: uuid.UUID
    role: ParticipantRole
    display_name: str


Principal = StaffPrincipal | LinkPrincipal | None


class Audience(enum.Enum):
    """The kind of caller a route serves."""

    ANYONE = "anyone"
    STAFF = "staff"  # any signed-in staff member
    ADMIN = "admin"  # account and team management; no case content
    CASE_STAFF = "case_staff"  # caseworkers and supervisors: case content, scoped below
    CASEWORKER = "caseworker"
    SUPERVISOR = "supervisor"  # oversight of a team's visits: queue, metrics, playback
    LINK = "link"  # a client or guest join link


_STAFF_ROLES = {
    Audience.STAFF: set(StaffRole),
    Audience.ADMIN: {StaffRole.ADMIN},
    Audience.CASE_STAFF: {StaffRole.CASEWORKER, StaffRole.SUPERVISOR},
    Audience.CASEWORKER: {StaffRole.CASEWORKER},
    Audience.SUPERVISOR: {StaffRole.SUPERVISOR},
}


def admit(audience: Audience, principal: Principal) -> None:
    """Raise unless `principal` belongs to `audience`."""
    if audience is Audience.ANYONE:
        return
    if audience is Audience.LINK:
        if not isinstance(principal, LinkPrincipal):
            raise NotSignedIn("This page needs a valid visit link.")
        return
    if not isinstance(principal, StaffPrincipal):
        raise NotSignedIn("Sign in as staff first.")
    if principal.role not in _STAFF_ROLES[audience]:
        raise Forbidden(f"Your role ({principal.role.value}) may not do this.")


def _staff(principal: Principal) -> StaffPrincipal:
    if not isinstance(principal, StaffPrincipal):
        raise NotSignedIn("Sign in as staff first.")
    return principal


def case_scope(principal: Principal) -> ColumnElement[bool]:
    """A condition on Case selecting exactly the cases `principal` may read."""
    if not isinstance(principal, StaffPrincipal):
        return false()
    if principal.role is StaffRole.CASEWORKER:
        return Case.caseworker_id == principal.user_id
    if principal.role is StaffRole.SUPERVISOR:
        return Case.caseworker_id.in_(
            select(StaffUser.id).where(StaffUser.team_id == principal.team_id)
        )
    return false()  # administrators manage accounts, not case content


def client_scope(principal: Principal) -> ColumnElement[bool]:
    """A condition on Client: clients of cases the principal may read."""
    if not isinstance(principal, StaffPrincipal) or principal.role is StaffRole.ADMIN:
        return false()
    visible_cases = select(Case.id).where(case_scope(principal))
    return Client.id.in_(
        select(case_clients.c.client_id).where(case_clients.c.case_id.in_(visible_cases))
    )


def staff_scope(principal: Principal) -> ColumnElement[bool]:
    """A condition on StaffUser: whom a staff member may list (admins all, others their team)."""
    staff = _staff(principal)
    if staff.role is StaffRole.ADMIN:
        return true()
    return StaffUser.team_id == staff.team_id


async def case_for(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> Case:
    case = await session.scalar(select(Case).where(Case.id == case_id, case_scope(principal)))
    if case is None:
        raise NotFound(f"No case {case_id} that you can see.")
    return case


async def booking_for(
    session: AsyncSession, principal: Principal, booking_id: uuid.UUID
) -> Booking:
    """A booking the principal may see: a link sees its own, staff those of their cases."""
    query = select(Booking).where(Booking.id == booking_id)
    if isinstance(principal, LinkPrincipal):
        query = query.where(Booking.id == principal.booking_id)
    else:
        query = query.where(Booking.case_id.in_(select(Case.id).where(case_scope(principal))))
    booking = await session.scalar(query)
    if booking is None:
        raise NotFound(f"No booking {booking_id} that you can see.")
    return booking


async def note_for(session: AsyncSession, principal: Principal, note_id: uuid.UUID) -> VisitNote:
    """A visit note (or addendum) of a case the principal may read."""
    note = await session.scalar(
        select(VisitNote).where(
            VisitNote.id == note_id,
            VisitNote.case_id.in_(select(Case.id).where(case_scope(principal))),
        )
    )
    if note is None:
        raise NotFound(f"No note {note_id} that you can see.")
    return note


async def check_note_author(session: AsyncSession, principal: Principal, note: VisitNote) -> None:
    """Only the case's assigned caseworker edits, decides, signs and adds addenda to its notes:
    a note is their professional record; supervisors read it."""
    staff = _staff(principal)
    case = await session.get(Case, note.case_id)
    if (
        case is None
        or staff.role is not StaffRole.CASEWORKER
        or case.caseworker_id != staff.user_id
    ):
        raise Forbidden("Only the case's assigned caseworker may change or sign its notes.")


def may_change_case(principal: Principal, case: Case) -> bool:
    """Only the assigned caseworker or a supervisor of their team changes a case's content."""
    staff = _staff(principal)
    return staff.role is StaffRole.SUPERVISOR or case.caseworker_id == staff.user_id


async def assignable_caseworker(
    session: AsyncSession, principal: Principal, caseworker_id: uuid.UUID
) -> StaffUser:
    """A caseworker the principal may assign a case or booking to."""
    staff = _staff(principal)
    caseworker = await session.get(StaffUser, caseworker_id)
    if (
        caseworker is None
        or caseworker.role is not StaffRole.CASEWORKER
        or not caseworker.active
        or caseworker.team_id != staff.team_id
    ):
        raise NotFound(f"No active caseworker {caseworker_id} in your team.")
    if staff.role is StaffRole.CASEWORKER and caseworker.id != staff.user_id:
        raise Forbidden("A caseworker may assign cases only to themselves.")
    return caseworker


def caseworker_scope(principal: Principal) -> ColumnElement[bool]:
    """A condition on StaffUser: caseworkers whose office hours, booking links and calendar the
    principal manages (a caseworker their own; a supervisor their team's)."""
    if not isinstance(principal, StaffPrincipal):
        return false()
    if principal.role is StaffRole.CASEWORKER:
        return StaffUser.id == principal.user_id
    if principal.role is StaffRole.SUPERVISOR:
        return (StaffUser.team_id == principal.team_id) & (StaffUser.role == StaffRole.CASEWORKER)
    return false()


def may_change_own_visit(principal: Principal) -> LinkPrincipal:
    """Only the client's own link reschedules, cancels or uploads; guests' links only join."""
    if not isinstance(principal, LinkPrincipal):
        raise NotSignedIn("This page needs a valid visit link.")
    if principal.role is not ParticipantRole.CLIENT:
        raise Forbidden("Only the client can change this visit or send documents.")
    return principal


def link_reaches(booking: Booking, case_id: uuid.UUID, client_id: uuid.UUID) -> bool:
    """Whether a link to `booking` reaches a thing of a case's client (e.g. a document
    request): the same case and the same client, nothing else."""
    return booking.case_id == case_id and booking.client_id == client_id


def supervised_booking_scope(principal: Principal) -> ColumnElement[bool]:
    """A condition on Booking: visits a supervisor oversees (those of their team's cases).
    Anyone else oversees nothing, whatever route they reach this through."""
    if not isinstance(principal, StaffPrincipal) or principal.role is not StaffRole.SUPERVISOR:
        return false()
    return Booking.case_id.in_(select(Case.id).where(case_scope(principal)))


async def supervised_booking_for(
    session: AsyncSession, principal: Principal, booking_id: uuid.UUID
) -> Booking:
    """A visit of the supervisor's team; anything else is a plain 404."""
    booking = await session.scalar(
        select(Booking).where(Booking.id == booking_id, supervised_booking_scope(principal))
    )
    if booking is None:
        raise NotFound(f"No visit {booking_id} in your team.")
    return booking


async def supervised_recording_for(
    session: AsyncSession, principal: Principal, recording_id: uuid.UUID
) -> Recording:
    """A recording of a visit the supervisor oversees; anything else is a plain 404."""
    recording = await session.scalar(
        select(Recording)
        .join(Booking, Booking.id == Recording.booking_id)
        .where(Recording.id == recording_id, supervised_booking_scope(principal))
    )
    if recording is None:
        raise NotFound(f"No recording {recording_id} in your team's visits.")
    return recording


async def supervised_caseworker_for(
    session: AsyncSession, principal: Principal, caseworker_id: uuid.UUID
) -> StaffUser:
    """A caseworker of the supervisor's team (e.g. a filter on the team's visits)."""
    is_supervisor = isinstance(principal, StaffPrincipal) and principal.role is StaffRole.SUPERVISOR
    caseworker = await session.scalar(
        select(StaffUser).where(StaffUser.id == caseworker_id, caseworker_scope(principal))
    )
    if caseworker is None or not is_supervisor:
        raise NotFound(f"No caseworker {caseworker_id} in your team.")
    return caseworker


def may_manage_holds(principal: Principal) -> StaffPrincipal:
    """Legal holds are placed and released by supervisors, on their team's cases and visits
    (found through `case_for`/`booking_for`); caseworkers see them, administrators do not."""
    staff = _staff(principal)
    if staff.role is not StaffRole.SUPERVISOR:
        raise Forbidden("Only a supervisor may place or release a legal hold.")
    return staff


def hold_scope(principal: Principal) -> ColumnElement[bool]:
    """A condition on LegalHold: holds on cases (or their visits) the principal may read."""
    visible_cases = select(Case.id).where(case_scope(principal))
    return LegalHold.case_id.in_(visible_cases) | LegalHold.booking_id.in_(
        select(Booking.id).where(Booking.case_id.in_(visible_cases))
    )


async def hold_for(session: AsyncSession, principal: Principal, hold_id: uuid.UUID) -> LegalHold:
    hold = await session.scalar(
        select(LegalHold).where(LegalHold.id == hold_id, hold_scope(principal))
    )
    if hold is None:
        raise NotFound(f"No legal hold {hold_id} that you can see.")
    return hold
