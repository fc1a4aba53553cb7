"""A caseworker's office hours: weekly blocks in their zone, slot length, buffer, cap, days off."""

from __future__ import annotations

import itertools
import uuid
from datetime import date, datetime, time
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy import delete, select

from scheduler.availability import open_slots
from scheduler.models import AvailabilityBlock, DateOff, OfficeHours
from scheduler.slots import Slot
from visits import audit
from visits.access import Audience
from visits.bookings import check_time_zone
from visits.errors import InvalidInput, NotFound
from visits.web.api import Api, Call
from visits.web.schemas import Out

Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
]


class BlockIn(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    weekday: Annotated[int, Field(ge=0, le=6, description="0 = Monday ... 6 = Sunday")]
    start_time: time
    end_time: time


class DateOffIn(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    first_day: date
    last_day: date
    reason: Annotated[str, Field(max_length=200)] = ""


class OfficeHoursIn(BaseModel):
    """The whole of a caseworker's office hours; PUT replaces them."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)

    time_zone: Annotated[str, Field(min_length=1, max_length=64, examples=["America/Chicago"])]
    slot_minutes: Annotated[int, Field(ge=5, le=480)] = 30
    buffer_minutes: Annotated[int, Field(ge=0, le=240)] = 0
    daily_cap: Annotated[int, Field(ge=1, le=200)] | None = None
    min_notice_minutes: Annotated[int, Field(ge=0, le=20160)] = 60
    horizon_days: Annotated[int, Field(ge=1, le=365)] = 28
    notify_email: Email | None = Field(
        None, description="Where invites for new, moved and cancelled visits are emailed."
    )
    blocks: Annotated[list[BlockIn], Field(max_length=100)]
    dates_off: Annotated[list[DateOffIn], Field(max_length=500)] = []

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        check_time_zone(self.time_zone)
        by_day: dict[int, list[BlockIn]] = {}
        for block in self.blocks:
            minutes = (
                datetime.combine(date.min, block.end_time)
                - datetime.combine(date.min, block.start_time)
            ).total_seconds() / 60
            if minutes < self.slot_minutes:
                raise InvalidInput(
                    f"The block {block.start_time:%H:%M}-{block.end_time:%H:%M} is shorter than "
                    f"one {self.slot_minutes}-minute slot (blocks end after they start, same day)."
                )
            by_day.setdefault(block.weekday, []).append(block)
        for blocks in by_day.values():
            blocks.sort(key=lambda b: b.start_time)
            for earlier, later in itertools.pairwise(blocks):
                if later.start_time < earlier.end_time:
                    raise InvalidInput(
                        f"Blocks {earlier.start_time:%H:%M}-{earlier.end_time:%H:%M} and "
                        f"{later.start_time:%H:%M}-{later.end_time:%H:%M} overlap."
                    )
        for off in self.dates_off:
            if off.last_day < off.first_day:
                raise InvalidInput(
                    f"Days off {off.first_day}..{off.last_day} end before they start."
                )
        return self


class OfficeHoursOut(OfficeHoursIn):
    caseworker_id: uuid.UUID
    updated_at: datetime


class SlotOut(Out):
    start_at: datetime
    end_at: datetime


class SlotsOut(BaseModel):
    time_zone: str
    slot_minutes: int
    slots: list[SlotOut]


def slots_out(time_zone: str, slot_minutes: int, slots: list[Slot]) -> SlotsOut:
    return SlotsOut(
        time_zone=time_zone,
        slot_minutes=slot_minutes,
        slots=[SlotOut(start_at=s.start, end_at=s.end) for s in slots],
    )


async def _office_hours_out(session, caseworker_id: uuid.UUID) -> OfficeHoursOut:  # type: ignore[no-untyped-def]
    office = await session.get(OfficeHours, caseworker_id)
    if office is None:
        raise NotFound("You have not published office hours yet.")
    blocks = await session.scalars(
        select(AvailabilityBlock)
        .where(AvailabilityBlock.caseworker_id == caseworker_id)
        .order_by(AvailabilityBlock.weekday, AvailabilityBlock.start_time)
    )
    days_off = await session.scalars(
        select(DateOff).where(DateOff.caseworker_id == caseworker_id).order_by(DateOff.first_day)
    )
    return OfficeHoursOut(
        caseworker_id=caseworker_id,
        updated_at=office.updated_at,
        time_zone=office.time_zone,
        slot_minutes=office.slot_minutes,
        buffer_minutes=office.buffer_minutes,
        daily_cap=office.daily_cap,
        min_notice_minutes=office.min_notice_minutes,
        horizon_days=office.horizon_days,
        notify_email=office.notify_email,
        blocks=[BlockIn.model_validate(b) for b in blocks],
        dates_off=[DateOffIn.model_validate(d) for d in days_off],
    )


async def get_office_hours(call: Call[None, None]) -> OfficeHoursOut:
    async with call.db.transaction() as session:
        return await _office_hours_out(session, call.staff.user_id)


async def put_office_hours(call: Call[OfficeHoursIn, None]) -> OfficeHoursOut:
    body = call.body
    me = call.staff.user_id
    async with call.db.transaction() as session:
        office = await session.get(OfficeHours, me)
        if office is None:
            office = OfficeHours(caseworker_id=me)
            session.add(office)
        for name in (
            "time_zone",
            "slot_minutes",
            "buffer_minutes",
            "daily_cap",
            "min_notice_minutes",
            "horizon_days",
            "notify_email",
        ):
            setattr(office, name, getattr(body, name))
        await session.flush()
        await session.execute(
            delete(AvailabilityBlock).where(AvailabilityBlock.caseworker_id == me)
        )
        await session.execute(delete(DateOff).where(DateOff.caseworker_id == me))
        session.add_all(AvailabilityBlock(caseworker_id=me, **b.model_dump()) for b in body.blocks)
        session.add_all(DateOff(caseworker_id=me, **d.model_dump()) for d in body.dates_off)
        await session.flush()
        await audit.append(session, call.actor, "office_hours.change", "staff_user", me)
        return await _office_hours_out(session, me)


async def my_slots(call: Call[None, None]) -> SlotsOut:
    async with call.db.transaction() as session:
        office, _, slots = await open_slots(session, call.staff.user_id)
    return slots_out(office.time_zone, office.slot_minutes, slots)


def register(api: Api) -> None:
    route = api.route
    route(
        "GET",
        "/api/office-hours",
        summary="My office hours",
        audience=Audience.CASEWORKER,
        response=OfficeHoursOut,
        tag="scheduling",
        errors=(404,),
    )(get_office_hours)
    route(
        "PUT",
        "/api/office-hours",
        summary="Publish my office hours: weekly blocks, slot length, buffer, cap, days off",
        audience=Audience.CASEWORKER,
        body=OfficeHoursIn,
        response=OfficeHoursOut,
        tag="scheduling",
    )(put_office_hours)
    route(
        "GET",
        "/api/office-hours/slots",
        summary="My open slots from now to my horizon",
        audience=Audience.CASEWORKER,
        response=SlotsOut,
        tag="scheduling",
        errors=(404,),
    )(my_slots)
