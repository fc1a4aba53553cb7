"""When something is due, from how people say it ("on Tuesday at ten in the morning").

Resolved against the visit's own date in the booking's time zone, so "Tuesday" means the
first Tuesday after the visit, and the local time stays right across a DST change.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "noon": 12,
}  # fmt: skip
_HOUR = r"(\d{1,2}|" + "|".join(NUMBER_WORDS) + r")"
_TIME = re.compile(
    r"\b(?:at\s+)?(?:(?P<half>half\s+past)\s+)?(?P<hour>" + _HOUR + r")"
    r"(?![a-z])(?::(?P<minute>\d{2}))?\s*(?P<suffix>a\.?m\.?|p\.?m\.?|o'clock)?"
    r"(?:\s+in\s+the\s+(?P<part>morning|afternoon|evening))?",
    re.IGNORECASE,
)
_IN_DAYS = re.compile(
    r"\bin\s+(?P<count>\d+|" + "|".join(NUMBER_WORDS) + r")\s+(?P<unit>days?|weeks?)\b", re.I
)
_MONTH_DAY = re.compile(
    r"\b(?P<month>" + "|".join(MONTHS) + r")\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?\b"
    r"|\b(?P<day2>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month2>" + "|".join(MONTHS) + r")\b",
    re.IGNORECASE,
)


def due_from(sentence: str, visit_day: date, zone: ZoneInfo) -> str | None:
    """The ISO date (or local date-time with offset) a sentence sets, or None."""
    text = sentence.lower()
    day = _day(text, visit_day)
    if day is None:
        return None
    at = _time_of_day(text)
    if at is None:
        return day.isoformat()
    return datetime.combine(day, at, tzinfo=zone).isoformat()


def _day(text: str, visit_day: date) -> date | None:
    if re.search(r"\btoday\b", text):
        return visit_day
    if "tomorrow" in text:
        return visit_day + timedelta(days=1)
    for index, name in enumerate(WEEKDAYS):
        if re.search(rf"\b{name}\b", text):
            ahead = (index - visit_day.weekday() - 1) % 7 + 1  # strictly after the visit
            return visit_day + timedelta(days=ahead)
    if match := _MONTH_DAY.search(text):
        month = MONTHS.index((match["month"] or match["month2"]).lower()) + 1
        day_number = int(match["day"] or match["day2"])
        try:
            candidate = date(visit_day.year, month, day_number)
        except ValueError:
            return None
        return candidate if candidate >= visit_day else candidate.replace(year=visit_day.year + 1)
    if match := _IN_DAYS.search(text):
        count = _number(match["count"])
        unit = 7 if match["unit"].lower().startswith("week") else 1
        return visit_day + timedelta(days=count * unit)
    if re.search(r"\bnext\s+week\b", text):
        return visit_day + timedelta(days=7)
    return None


def _time_of_day(text: str) -> time | None:
    for match in _TIME.finditer(text):
        said_at = match.group(0).lower().startswith("at")
        suffix = (match["suffix"] or "").replace(".", "").lower()
        part = (match["part"] or "").lower()
        if not (said_at or match["half"] or suffix or part):
            continue  # a bare number ("2 children") is not a time
        hour = _number(match["hour"])
        minute = 30 if match["half"] else int(match["minute"] or 0)
        if not 0 <= hour <= 23 or minute > 59:
            continue
        if hour < 12 and (suffix == "pm" or part in ("afternoon", "evening")):
            hour += 12
        elif hour == 12 and suffix == "am":
            hour = 0
        elif not (suffix or part) and 1 <= hour <= 6:
            hour += 12  # "at four": offices meet in the afternoon, not before dawn
        return time(hour, minute)
    return None


def _number(word: str) -> int:
    return int(word) if word.isdigit() else NUMBER_WORDS[word.lower()]
