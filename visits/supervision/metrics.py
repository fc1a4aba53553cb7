"""Per-caseworker and team figures over a period: visits held, no-show rate, average length,
and how long signing the note took after the visit ended.

The team row is computed over all the team's visits (not as an average of averages), so a
caseworker with two visits does not weigh as much as one with forty.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import fmean

from visits.models import BookingStatus, NoteStatus

CSV_COLUMNS = (
    "caseworker_id",
    "caseworker",
    "visits_held",
    "no_shows",
    "no_show_rate",
    "avg_duration_minutes",
    "notes_signed",
    "avg_hours_to_signed_note",
)


@dataclass(frozen=True)
class VisitRow:
    """The few facts of one visit the metrics need."""

    caseworker_id: uuid.UUID
    status: BookingStatus
    end_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    note_status: NoteStatus | None
    note_signed_at: datetime | None


@dataclass(frozen=True)
class Figures:
    caseworker_id: uuid.UUID | None  # None: the whole team
    caseworker: str
    visits_held: int
    no_shows: int
    no_show_rate: float | None  # of visits that were due: held + no-shows
    avg_duration_minutes: float | None
    notes_signed: int
    avg_hours_to_signed_note: float | None

    def as_dict(self) -> dict[str, object]:
        return {
            "caseworker_id": str(self.caseworker_id) if self.caseworker_id else None,
            "caseworker": self.caseworker,
            "visits_held": self.visits_held,
            "no_shows": self.no_shows,
            "no_show_rate": self.no_show_rate,
            "avg_duration_minutes": self.avg_duration_minutes,
            "notes_signed": self.notes_signed,
            "avg_hours_to_signed_note": self.avg_hours_to_signed_note,
        }


def _mean(values: Sequence[float], digits: int) -> float | None:
    return round(fmean(values), digits) if values else None


def figures(rows: Iterable[VisitRow], caseworker_id: uuid.UUID | None, caseworker: str) -> Figures:
    rows = list(rows)
    no_shows = sum(1 for r in rows if r.status is BookingStatus.NO_SHOW)
    held = [r for r in rows if r.status is BookingStatus.COMPLETED]
    durations = [
        (r.ended_at - r.started_at).total_seconds() / 60
        for r in held
        if r.started_at is not None and r.ended_at is not None
    ]
    signed = [r for r in held if r.note_status is NoteStatus.SIGNED and r.note_signed_at]
    to_sign = [
        max(0.0, (r.note_signed_at - (r.ended_at or r.end_at)).total_seconds() / 3600)
        for r in signed
        if r.note_signed_at is not None
    ]
    due = len(held) + no_shows
    return Figures(
        caseworker_id=caseworker_id,
        caseworker=caseworker,
        visits_held=len(held),
        no_shows=no_shows,
        no_show_rate=round(no_shows / due, 4) if due else None,
        avg_duration_minutes=_mean(durations, 1),
        notes_signed=len(signed),
        avg_hours_to_signed_note=_mean(to_sign, 1),
    )


def team_figures(
    rows: Sequence[VisitRow], caseworkers: dict[uuid.UUID, str], team: str
) -> tuple[list[Figures], Figures]:
    """One row per caseworker (every one named, visits or not), and the team's."""
    names = dict(caseworkers)
    for row in rows:
        names.setdefault(row.caseworker_id, "(former team member)")
    per_caseworker = [
        figures([r for r in rows if r.caseworker_id == worker_id], worker_id, name)
        for worker_id, name in sorted(names.items(), key=lambda item: item[1].lower())
    ]
    return per_caseworker, figures(rows, None, team)


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula (names come from people)."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(per_caseworker: Sequence[Figures], team: Figures) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in [*per_caseworker, team]:
        data = row.as_dict()
        if row.caseworker_id is None:
            data["caseworker_id"] = "team"
        writer.writerow([_cell(data[column]) for column in CSV_COLUMNS])
    return out.getvalue()
