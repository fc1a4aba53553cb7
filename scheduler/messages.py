"""What the scheduler says to clients, in their language.

Safety rule for vulnerable clients: a text to a client carries the time and the link, nothing
else: no names, no case number, no purpose. A phone may be read by someone else.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from scheduler.invites import InviteText
from visits.i18n import Translations

CLIENT_KINDS = ("confirmed", "reminder", "moved", "cancelled")


def when(translations: Translations, language: str | None, at: datetime, zone: str) -> str:
    """A visit's start as a person reads it, e.g. 'Tuesday, March 10 at 9:30 AM (PDT)'."""
    local = at.astimezone(ZoneInfo(zone))
    if translations.text(language, "time.style") == "12h":
        hour = local.hour % 12 or 12
        clock = f"{hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"
    else:
        clock = f"{local.hour}:{local.minute:02d}"
    return translations.text(
        language,
        "when.format",
        weekday=translations.text(language, f"weekday.{local.weekday()}"),
        day=local.day,
        month=translations.text(language, f"month.{local.month}"),
        year=local.year,
        time=clock,
        zone=local.tzname() or zone,
    )


def client_text(
    translations: Translations,
    language: str | None,
    kind: str,
    start_at: datetime,
    zone: str,
    link: str,
) -> str:
    """The text of a message to a client: the time and the link only."""
    if kind not in CLIENT_KINDS:
        raise ValueError(f"no client message {kind!r}")
    return translations.text(
        language,
        f"message.{kind}",
        when=when(translations, language, start_at, zone),
        link=link,
    )


def client_invite_text(translations: Translations, language: str | None, link: str) -> InviteText:
    """How a client's calendar names the visit."""
    return InviteText(
        summary=translations.text(language, "invite.summary"),
        description=translations.text(language, "invite.description", link=link),
        url=link,
    )


def staff_invite_text(case_number: str, page: str) -> InviteText:
    """How a caseworker's calendar names the visit: the case number, not the client's name."""
    return InviteText(
        summary=f"Virtual visit - case {case_number}",
        description=f"Open Virtual Visits to start the visit: {page}",
        url=page,
    )


STAFF_SUBJECTS = {
    "confirmed": "Visit booked",
    "moved": "Visit moved",
    "cancelled": "Visit cancelled",
}


def staff_text(kind: str, case_number: str, start_text: str) -> tuple[str, str]:
    """Subject and body of an email to the caseworker."""
    subject = f"{STAFF_SUBJECTS[kind]}: case {case_number}, {start_text}"
    body = f"{STAFF_SUBJECTS[kind]} for case {case_number}: {start_text}.\nThe invite is attached."
    return subject, body
