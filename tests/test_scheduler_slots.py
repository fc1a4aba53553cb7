"""Free slots follow the caseworker's wall clock, also across daylight-saving changes."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.slots import Block, Rules, free_slots

LOS_ANGELES = ZoneInfo("America/Los_Angeles")
LONDON = ZoneInfo("Europe/London")
SUNDAY = 6


def rules(zone: ZoneInfo, *blocks: Block, **values: object) -> Rules:
    return Rules(zone=zone, blocks=blocks, slot=timedelta(minutes=30), **values)  # type: ignore[arg-type]


def local_starts(slots: list, zone: ZoneInfo) -> list[str]:
    return [slot.start.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") for slot in slots]


def around(day: date) -> tuple[datetime, datetime, datetime]:
    """now, window start and window end: the two days around `day` only."""
    start = datetime.combine(day - timedelta(days=1), time(0), tzinfo=UTC)
    return start, start, start + timedelta(days=3)


def test_morning_slots_keep_their_wall_time_across_the_los_angeles_spring_change() -> None:
    """09:00 on the Sunday clocks spring forward is 09:00 PDT, a week earlier 09:00 PST."""
    office = rules(LOS_ANGELES, Block(SUNDAY, time(9), time(10)))
    now = datetime(2026, 2, 25, tzinfo=UTC)
    slots = free_slots(office, [], now, now, datetime(2026, 3, 16, tzinfo=UTC))
    assert local_starts(slots, LOS_ANGELES) == [
        "2026-03-01 09:00 PST",
        "2026-03-01 09:30 PST",
        "2026-03-08 09:00 PDT",
        "2026-03-08 09:30 PDT",
        "2026-03-15 09:00 PDT",
        "2026-03-15 09:30 PDT",
    ]
    assert slots[0].start == datetime(2026, 3, 1, 17, tzinfo=UTC)
    assert slots[2].start == datetime(2026, 3, 8, 16, tzinfo=UTC)
    assert all(slot.end - slot.start == timedelta(minutes=30) for slot in slots)


def test_a_block_over_the_spring_gap_has_only_the_real_hours() -> None:
    """01:00-04:00 on the Los Angeles spring-forward night is two real hours: four slots."""
    office = rules(LOS_ANGELES, Block(SUNDAY, time(1), time(4)))
    slots = free_slots(office, [], *around(date(2026, 3, 8)))
    assert local_starts(slots, LOS_ANGELES) == [
        "2026-03-08 01:00 PST",
        "2026-03-08 01:30 PST",
        "2026-03-08 03:00 PDT",
        "2026-03-08 03:30 PDT",
    ]


def test_a_block_over_the_autumn_overlap_has_every_real_hour() -> None:
    """01:00-03:00 on the Los Angeles fall-back night is three real hours: six slots."""
    office = rules(LOS_ANGELES, Block(SUNDAY, time(1), time(3)))
    slots = free_slots(office, [], *around(date(2026, 11, 1)))
    assert local_starts(slots, LOS_ANGELES) == [
        "2026-11-01 01:00 PDT",
        "2026-11-01 01:30 PDT",
        "2026-11-01 01:00 PST",
        "2026-11-01 01:30 PST",
        "2026-11-01 02:00 PST",
        "2026-11-01 02:30 PST",
    ]
    starts = [slot.start for slot in slots]
    assert all(b - a == timedelta(minutes=30) for a, b in itertools.pairwise(starts))


def test_london_slots_across_the_spring_and_autumn_changes() -> None:
    """10:00 London is 10:00 UTC in winter and 09:00 UTC in summer; the change nights lose
    and gain an hour of a block that spans them."""
    office = rules(LONDON, Block(SUNDAY, time(0), time(3)), Block(SUNDAY, time(10), time(10, 30)))
    spring = free_slots(office, [], *around(date(2026, 3, 29)))
    assert [s.start.astimezone(LONDON).strftime("%H:%M %Z") for s in spring] == [
        "00:00 GMT",
        "00:30 GMT",
        "02:00 BST",
        "02:30 BST",
        "10:00 BST",
    ]
    assert spring[-1].start == datetime(2026, 3, 29, 9, tzinfo=UTC)
    autumn = free_slots(office, [], *around(date(2026, 10, 25)))
    assert len(autumn) == 8 + 1  # 00:00-03:00 is four real hours that night
    assert autumn[-1].start == datetime(2026, 10, 25, 10, tzinfo=UTC)


def test_booked_times_and_their_buffer_are_not_offered() -> None:
    """A booking removes its slot and, with a 15-minute buffer, the slots touching it."""
    office = rules(
        LONDON, Block(0, time(9), time(12)), buffer=timedelta(minutes=15)
    )  # slots 09:00, 09:45, 10:30, 11:15
    monday = date(2026, 6, 1)
    start, end = datetime(2026, 6, 1, 0, tzinfo=UTC), datetime(2026, 6, 2, tzinfo=UTC)
    assert len(free_slots(office, [], start, start, end)) == 4
    booked = (datetime(2026, 6, 1, 9, 0, tzinfo=UTC), datetime(2026, 6, 1, 9, 40, tzinfo=UTC))
    slots = free_slots(office, [booked], start, start, end)  # 10:00-10:40 BST
    assert local_starts(slots, LONDON) == [
        f"{monday} 09:00 BST",
        f"{monday} 11:15 BST",
    ]


def test_daily_cap_dates_off_notice_and_horizon_limit_the_offer() -> None:
    """A full day, a day off, too-short notice and days past the horizon offer nothing."""
    mondays = Block(0, time(9), time(11))
    now = datetime(2026, 6, 1, 7, 30, tzinfo=UTC)  # Monday 08:30 BST
    office = rules(
        LONDON,
        mondays,
        daily_cap=2,
        min_notice=timedelta(hours=1),
        horizon=timedelta(days=15),
        dates_off=[(date(2026, 6, 8), date(2026, 6, 10))],
    )
    busy = [(datetime(2026, 6, 15, 8, tzinfo=UTC), datetime(2026, 6, 15, 8, 30, tzinfo=UTC))]
    slots = free_slots(office, busy, now)
    assert local_starts(slots, LONDON) == [
        "2026-06-01 09:30 BST",
        "2026-06-01 10:00 BST",
        "2026-06-01 10:30 BST",
        "2026-06-15 09:30 BST",
        "2026-06-15 10:00 BST",
        "2026-06-15 10:30 BST",
    ]
    busy.append((datetime(2026, 6, 15, 9, tzinfo=UTC), datetime(2026, 6, 15, 9, 30, tzinfo=UTC)))
    assert [s.start.date() for s in free_slots(office, busy, now)] == [date(2026, 6, 1)] * 3
