"""Why a visit deserves a supervisor's attention: signals read from the record, and a score.

Pure functions over plain facts, so the rules are easy to read and to test. The weights put a
possible risk to someone's safety above paperwork: a confirmed risk indicator outranks
everything else, an unsigned note grows more urgent by the day.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from visits.models import BookingStatus, NoteStatus
from visits.settings import Settings

RISK_CONFIRMED = 50
RISK_SUGGESTED = 35
UNSIGNED_BASE = 20
UNSIGNED_PER_DAY = 2  # each day past the threshold adds this much, up to UNSIGNED_MAX
UNSIGNED_MAX = 40
NO_SHOW_BASE = 25
NO_SHOW_PER_EXTRA = 5  # each miss beyond the threshold
DECLINED_CONSENT = 20
SHORT_VISIT = 15

KINDS = ("risk", "unsigned", "no_show_repeat", "short_visit", "declined_consent")


@dataclass(frozen=True)
class Thresholds:
    """When a signal fires; from settings (VV_REVIEW_*)."""

    unsigned_days: int
    short_visit_minutes: int
    no_show_repeat: int
    lookback_days: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Thresholds:
        return cls(
            unsigned_days=settings.review_unsigned_days,
            short_visit_minutes=settings.review_short_visit_minutes,
            no_show_repeat=settings.review_no_show_repeat,
            lookback_days=settings.review_lookback_days,
        )


@dataclass(frozen=True)
class Declined:
    role: str
    name: str


@dataclass(frozen=True)
class VisitFacts:
    """What the signals read about one visit."""

    booking_id: uuid.UUID
    status: BookingStatus
    end_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    note_status: NoteStatus | None
    risk_indicators: Sequence[dict[str, object]] = ()
    declined: Sequence[Declined] = ()
    # Set on the client's latest no-show only: how many visits they missed in the lookback.
    client_no_shows: int = 0

    @property
    def held_minutes(self) -> float | None:
        """How long the visit actually ran, when it ran at all."""
        if self.started_at is None or self.ended_at is None:
            return None
        return max(0.0, (self.ended_at - self.started_at).total_seconds() / 60)

    @property
    def finished_at(self) -> datetime:
        return self.ended_at or self.end_at


@dataclass(frozen=True)
class Signal:
    key: str  # stable: a review covers exactly the keys it saw
    kind: str
    score: int
    text: str
    at: float | None = None  # transcript time of the evidence, when there is one


@dataclass
class Ranked:
    facts: VisitFacts
    signals: list[Signal] = field(default_factory=list)

    @property
    def score(self) -> int:
        return sum(signal.score for signal in self.signals)


def _clock(seconds: object) -> str:
    if not isinstance(seconds, int | float):
        return ""
    whole = int(seconds)
    return f" at {whole // 60:02d}:{whole % 60:02d}"


def _risk_signals(facts: VisitFacts) -> Iterable[Signal]:
    for index, indicator in enumerate(facts.risk_indicators):
        if not isinstance(indicator, dict):
            continue
        status = indicator.get("status", "suggested")
        if status == "dismissed":
            continue
        category = str(indicator.get("category") or "unspecified")
        line = str(indicator.get("line") or "").strip()
        speaker = str(indicator.get("speaker") or "").strip()
        at = indicator.get("at")
        evidence = f": “{line}”" if line else ""
        who = f" ({speaker}{_clock(at)})" if speaker or at is not None else ""
        yield Signal(
            key=f"risk:{indicator.get('id') or index}",
            kind="risk",
            score=RISK_CONFIRMED if status == "confirmed" else RISK_SUGGESTED,
            text=f"Possible risk, {category} ({status}){evidence}{who}",
            at=float(at) if isinstance(at, int | float) else None,
        )


def signals_of(facts: VisitFacts, thresholds: Thresholds, now: datetime) -> list[Signal]:
    """Every signal one visit shows now."""
    found = list(_risk_signals(facts))
    held = facts.status is BookingStatus.COMPLETED
    if held and facts.note_status is not NoteStatus.SIGNED:
        days = (now - facts.finished_at).total_seconds() / 86400
        if days >= thresholds.unsigned_days:
            extra = int(days) - thresholds.unsigned_days
            what = "No note" if facts.note_status is None else "Note still unsigned"
            found.append(
                Signal(
                    key="unsigned",
                    kind="unsigned",
                    score=min(UNSIGNED_MAX, UNSIGNED_BASE + UNSIGNED_PER_DAY * extra),
                    text=f"{what} {int(days)} days after the visit",
                )
            )
    if facts.status is BookingStatus.NO_SHOW and facts.client_no_shows >= thresholds.no_show_repeat:
        extra = facts.client_no_shows - thresholds.no_show_repeat
        found.append(
            Signal(
                key="no_show_repeat",
                kind="no_show_repeat",
                score=NO_SHOW_BASE + NO_SHOW_PER_EXTRA * extra,
                text=(
                    f"Client missed {facts.client_no_shows} visits "
                    f"in the last {thresholds.lookback_days} days"
                ),
            )
        )
    minutes = facts.held_minutes
    if held and minutes is not None and minutes < thresholds.short_visit_minutes:
        found.append(
            Signal(
                key="short_visit",
                kind="short_visit",
                score=SHORT_VISIT,
                text=(
                    f"Visit lasted {minutes:.1f} minutes (under {thresholds.short_visit_minutes})"
                ),
            )
        )
    if facts.declined:
        people = ", ".join(f"{d.name} ({d.role})" for d in facts.declined)
        found.append(
            Signal(
                key="declined_consent",
                kind="declined_consent",
                score=DECLINED_CONSENT,
                text=f"Recording declined by {people}",
            )
        )
    return found


def unreviewed(signals: Sequence[Signal], reviewed_keys: set[str]) -> bool:
    """A visit is in the queue while it shows a signal no review has seen."""
    return any(signal.key not in reviewed_keys for signal in signals)


def rank(
    visits: Iterable[VisitFacts],
    thresholds: Thresholds,
    now: datetime,
    reviewed_keys: dict[uuid.UUID, set[str]],
) -> list[Ranked]:
    """The queue: visits with unreviewed signals, highest score first, then most recent."""
    queue = []
    for facts in visits:
        signals = signals_of(facts, thresholds, now)
        if signals and unreviewed(signals, reviewed_keys.get(facts.booking_id, set())):
            queue.append(Ranked(facts, sorted(signals, key=lambda s: -s.score)))
    queue.sort(key=lambda r: (-r.score, -r.facts.end_at.timestamp()))
    return queue
