"""Free slots from office-hours rules minus existing bookings. Pure functions, no database.

A caseworker publishes wall-clock blocks ("Tuesdays 09:00-12:00") in their IANA zone. Each
day's block is turned into two instants with zoneinfo, and slots are laid out in real time from
the block's start, so a day of 23 or 25 hours, or a block that spans a clock change, still gives
slots of exactly the published length. A wall time that does not exist (the spring gap) moves
forward by the gap; one that occurs twice (the autumn overlap) means its first occurrence.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Block:
    weekday: int  # 0 = Monday
    start: time
    end: time


@dataclass(frozen=True)
class Rules:
    """A caseworker's office hours, ready to compute with."""

    zone: ZoneInfo
    blocks: Sequence[Block]
    slot: timedelta
    buffer: timedelta = timedelta(0)
    daily_cap: int | None = None
    min_notice: timedelta = timedelta(0)
    horizon: timedelta = timedelta(days=28)
    dates_off: Sequence[tuple[date, date]] = ()

    def is_off(self, day: date) -> bool:
        return any(first <= day <= last for first, last in self.dates_off)


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime  # aware, UTC
    end: datetime


def wall_time(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant (UTC) a wall clock in `zone` shows `at` on `day`; gaps move forward."""
    local = datetime.combine(day, at, tzinfo=zone)  # fold=0: before-transition offset
    return local.astimezone(UTC)


def local_day(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


def days_between(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def block_slots(rules: Rules, day: date, block: Block) -> Iterator[Slot]:
    """Every slot of one block on one day, one slot plus buffer apart, in real time."""
    start = wall_time(day, block.start, rules.zone)
    end = wall_time(day, block.end, rules.zone)
    step = rules.slot + rules.buffer
    while start + rules.slot <= end:
        yield Slot(start, start + rules.slot)
        start += step


def candidate_slots(rules: Rules, first: date, last: date) -> Iterator[Slot]:
    """Slots the rules offer on local days first..last, before bookings are taken away."""
    for day in days_between(first, last):
        if rules.is_off(day):
            continue
        for block in sorted(rules.blocks, key=lambda b: b.start):
            if block.weekday == day.weekday():
                yield from block_slots(rules, day, block)


def free_slots(
    rules: Rules,
    busy: Iterable[tuple[datetime, datetime]],
    now: datetime,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
) -> list[Slot]:
    """Slots open for booking: within notice and horizon, clear of busy times by the buffer,
    on days under the daily cap. `busy` holds the caseworker's active visits (UTC)."""
    earliest = max(now + rules.min_notice, window_start or now)
    latest = min(now + rules.horizon, window_end or now + rules.horizon)
    if latest <= earliest:
        return []
    visits = sorted(busy)
    per_day = Counter(local_day(start, rules.zone) for start, _ in visits)
    first = local_day(earliest, rules.zone) - timedelta(days=1)
    last = local_day(latest, rules.zone) + timedelta(days=1)
    slots = []
    for slot in candidate_slots(rules, first, last):
        if not earliest <= slot.start < latest:
            continue
        if rules.daily_cap is not None and per_day[local_day(slot.start, rules.zone)] >= (
            rules.daily_cap
        ):
            continue
        if any(
            start < slot.end + rules.buffer and end > slot.start - rules.buffer
            for start, end in visits
        ):
            continue
        slots.append(slot)
    return sorted(set(slots))
