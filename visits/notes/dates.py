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
MINUTE_WORDS = {"fifteen": 15, "thirty": 30, "forty-five": 45, "forty five": 45}
# Before the hour: "half past ten" is 10:30, "quarter to eleven" is 10:45.
LEADS = {"half past": 30, "half after": 30, "quarter past": 15, "quarter after": 15}
_HOUR = r"(\d{1,2}|" + "|".join(NUMBER_WORDS) + r")"
_TIME = re.compile(
    r"\b(?:at\s+)?(?:(?P<lead>half\s+(?:past|after)|quarter\s+(?:past|after|to))\s+)?"
    r"(?P<hour>" + _HOUR + r")(?!\d)(?:(?![a-z])|(?=[ap]\.?m\b))"
    r"(?::(?P<minute>\d{2})|\s+(?P<minute_word>" + "|".join(MINUTE_WORDS) + r")\b)?"
    r"\s*(?P<suffix>(?:a|p)\.?m\b\.?|o'clock)?"
    r"(?:\s+in\s+the\s+(?P<part>morning|afternoon|evening))?",
    re.IGNORECASE,
)
_IN_DAYS = re.compile(
    r"\bin\s+(?P<count>\d+|a|" + "|".join(NUMBER_WORDS) + r")\s+(?P<unit>days?|weeks?)\b",
    re.I,
)
# Full month names, and the usual abbreviations ("Dec. 3rd"); "may" only in full.
_MONTH = r"(?:" + "|".join(MONTHS) + r"|(?:jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\.?)"
_MONTH_DAY = re.compile(
    r"\b(?P<month>" + _MONTH + r")\s+(?:the\s+)?(?P<day>\d{1,2})(?:st|nd|rd|th)?\b"
    r"|\b(?P<day2>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month2>" + _MONTH + r")(?![a-z])",
    re.IGNORECASE,
)
_NUMERIC_DATE = re.compile(r"\b(?P<month>\d{1,2})/(?P<day>\d{1,2})(?:/(?P<year>\d{2}|\d{4}))?\b")


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
    if re.search(r"\b(?:today|tonight|this afternoon|this evening)\b", text):
        return visit_day
    if "tomorrow" in text:
        return visit_day + timedelta(days=1)
    for index, name in enumerate(WEEKDAYS):
        if re.search(rf"\b{name}\b", text):
            ahead = (index - visit_day.weekday() - 1) % 7 + 1  # strictly after the visit
            return visit_day + timedelta(days=ahead)
    if match := _MONTH_DAY.search(text):
        name = (match["month"] or match["month2"]).lower().rstrip(".")[:3]
        month = next(i for i, full in enumerate(MONTHS, 1) if full.startswith(name))
        return _on_or_after(visit_day, month, int(match["day"] or match["day2"]))
    if match := _NUMERIC_DATE.search(text):  # US order, as the offices write dates
        year = match["year"]
        if year is None:
            return _on_or_after(visit_day, int(match["month"]), int(match["day"]))
        try:
            full_year = int(year) + (2000 if len(year) == 2 else 0)
            return date(full_year, int(match["month"]), int(match["day"]))
        except ValueError:
            return None
    if match := _IN_DAYS.search(text):
        count = _number(match["count"])
        unit = 7 if match["unit"].lower().startswith("week") else 1
        return visit_day + timedelta(days=count * unit)
    if re.search(r"\bnext\s+week\b", text):
        return visit_day + timedelta(days=7)
    return None


def _on_or_after(visit_day: date, month: int, day_number: int) -> date | None:
    """A day and month said without a year: the next one on or after the visit."""
    try:
        candidate = date(visit_day.year, month, day_number)
    except ValueError:
        return None
    return candidate if candidate >= visit_day else candidate.replace(year=visit_day.year + 1)


def _time_of_day(text: str) -> time | None:
    for match in _TIME.finditer(text):
        said_at = match.group(0).lower().startswith("at")
        lead = " ".join((match["lead"] or "").lower().split())
        suffix = (match["suffix"] or "").replace(".", "").lower()
        part = (match["part"] or "").lower()
        if not (said_at or lead or suffix or part):
            continue  # a bare number ("2 children") is not a time
        hour = _number(match["hour"])
        if match["minute_word"]:
            minute = MINUTE_WORDS[" ".join(match["minute_word"].lower().split("-"))]
        else:
            minute = LEADS.get(lead, int(match["minute"] or 0))
        if not 0 <= hour <= 23 or minute > 59:
            continue
        if hour < 12 and (suffix == "pm" or part in ("afternoon", "evening")):
            hour += 12
        elif hour == 12 and suffix == "am":
            hour = 0
        elif not (suffix or part) and 1 <= hour <= 6:
            hour += 12  # "at four": offices meet in the afternoon, not before dawn
        if lead == "quarter to":
            hour, minute = (hour - 1) % 24, 45
        return time(hour, minute)
    return None


def _number(word: str) -> int:
    if word.isdigit():
        return int(word)
    return 1 if word.lower() == "a" else NUMBER_WORDS[word.lower()]
