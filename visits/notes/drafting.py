"""The draft visit note: what a caseworker would write up, drafted from the visit's record.

Pure rules over the booking facts and the speaker-labelled transcript, no model and no
network, so the same visit always gives the same draft and every suggestion points at the
line behind it. The caseworker edits, confirms or dismisses, and signs.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from visits.notes.dates import due_from
from visits.notes.lexicon import (
    ACTION_CUES,
    ACTION_VERBS,
    RELATIONS,
    RISKS,
    SUBSTANCE_CUES,
    TOPICS,
)

MAX_KEY_STATEMENTS = 12
_IDS = uuid.UUID("6f1d4c1e-8a57-4f0e-9c55-7a3e0e0b7f11")  # namespace of suggestion ids
# A sentence ends at . ! or ?, but not after a title ("Mr. Jones") nor before a number or a
# lower-case word ("Dec. 3", "at 10 a.m. and then").
_SENTENCE_END = re.compile(
    r"(?<=[.!?])(?<!\bMr\.)(?<!\bMrs\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bSt\.)\s+(?![a-z\d])"
)


@dataclass(frozen=True)
class Participant:
    role: str
    name: str
    consented: bool | None = None


@dataclass(frozen=True)
class NoteFacts:
    """Everything the draft is built from, read from the booking and its records."""

    start_at: datetime  # when the visit really started (UTC)
    end_at: datetime
    time_zone: str
    purpose: str
    modality: str  # "video" or "audio only"
    participants: tuple[Participant, ...]
    consents: tuple[dict[str, Any], ...] = ()
    segments: tuple[dict[str, Any], ...] = ()
    provenance: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Sentence:
    at: float
    role: str
    name: str
    text: str

    @property
    def speaker(self) -> str:
        return f"{self.name} ({self.role})"

    @property
    def lowered(self) -> str:
        return self.text.lower()


def draft_note_body(facts: NoteFacts) -> dict[str, Any]:
    """The note body in the shape the API and the review page use (see docs/notes.md)."""
    zone = ZoneInfo(facts.time_zone)
    start, end = facts.start_at.astimezone(zone), facts.end_at.astimezone(zone)
    sentences = split_sentences(facts.segments)
    topics = find_topics(sentences)
    interpreter = next((p.name for p in facts.participants if p.role == "interpreter"), None)
    duration = round(max(0.0, (facts.end_at - facts.start_at).total_seconds()) / 60, 1)
    return {
        "visit": {
            "date": start.date().isoformat(),
            "start": start.strftime("%H:%M"),
            "end": end.strftime("%H:%M"),
            "time_zone": facts.time_zone,
            "duration_minutes": duration,
            "modality": facts.modality,
        },
        "participants": [
            {"role": p.role, "name": p.name, "consented": p.consented} for p in facts.participants
        ],
        "interpreter": interpreter,
        "consent": list(facts.consents),
        "purpose": facts.purpose,
        "summary": _summary(facts, start.date().isoformat(), duration, topics),
        "key_statements": key_statements(sentences),
        "topics": topics,
        "action_items": action_items(sentences, facts.participants, start.date(), zone),
        "risk_indicators": risk_indicators(sentences),
        "provenance": facts.provenance,
    }


def split_sentences(segments: tuple[dict[str, Any], ...]) -> list[Sentence]:
    return [
        Sentence(float(segment["start"]), segment["speaker_role"], segment["speaker_name"], text)
        for segment in segments
        for text in _SENTENCE_END.split(segment["text"].strip())
        if text
    ]


def key_statements(sentences: list[Sentence]) -> list[dict[str, Any]]:
    """Statements with substance (needs, changes, numbers, plans); not questions or small talk."""
    kept = [
        s
        for s in sentences
        if len(s.text.split()) >= 5
        and not s.text.endswith("?")
        and (any(_has(s.lowered, cue) for cue in SUBSTANCE_CUES) or re.search(r"\d", s.text))
    ]
    return [{"at": s.at, "speaker": s.speaker, "text": s.text} for s in kept[:MAX_KEY_STATEMENTS]]


def find_topics(sentences: list[Sentence]) -> list[str]:
    """Topics by how often their words came up, most talked-about first."""
    counts = {
        topic: sum(1 for s in sentences for word in words if _has(s.lowered, word))
        for topic, words in TOPICS.items()
    }
    return [topic for topic, count in sorted(counts.items(), key=lambda x: -x[1]) if count]


def action_items(
    sentences: list[Sentence], participants: tuple[Participant, ...], visit_day: Any, zone: ZoneInfo
) -> list[dict[str, Any]]:
    """Commitments, each with who owns it and, where a date was said, when it is due."""
    items = []
    for s in sentences:
        if not is_action(s.lowered) and _named_owner(s, participants, "client") is None:
            continue
        items.append(
            {
                "id": _id("action", s),
                "text": s.text,
                "owner": _owner(s, participants),
                "due": due_from(s.text, visit_day, zone),
                "at": s.at,
                "speaker": s.speaker,
                "status": "suggested",
            }
        )
    return items


def risk_indicators(sentences: list[Sentence]) -> list[dict[str, Any]]:
    """Possible risks, one per category and line, each with the line that raised it."""
    found = []
    for s in sentences:
        for category, words in RISKS.items():
            if any(_has(s.lowered, word) for word in words):
                found.append(
                    {
                        "id": _id(category, s),
                        "category": category,
                        "line": s.text,
                        "speaker": s.speaker,
                        "at": s.at,
                        "status": "suggested",
                    }
                )
    return found


def is_action(lowered: str) -> bool:
    """A commitment ("I will", "you need to", "next visit") or a request said as a command;
    (someone named doing something, "Dana will call", counts too: see `_named_owner`)."""
    if any(_has(lowered, cue) for cue in ACTION_CUES):
        return True
    return _COMMAND.match(lowered) is not None and not lowered.startswith(_PLEASANTRIES)


_PLEASANTRIES = ("take care", "get well", "check in with you later")


_COMMAND = re.compile(
    r"^(?:(?:please|so|and|then|ok(?:ay)?|also|just)[,\s]+)*(?:"
    + "|".join(re.escape(verb) for verb in ACTION_VERBS)
    + r")\b"
)
_WILL = r"\s+(?:will|'ll|is going to|needs to|has to|should)\b"
_TITLED = re.compile(r"\b((?:Mr|Mrs|Ms|Miss|Dr)\.?\s+[A-Z][a-z]+)" + _WILL, re.IGNORECASE)
_RELATION = re.compile(
    r"\b(my|your|her|his|the)\s+(" + "|".join(RELATIONS) + r")" + _WILL, re.IGNORECASE
)


def _named_owner(s: Sentence, participants: tuple[Participant, ...], client: str) -> str | None:
    """Someone other than the speaker named as doing it ("Dana will call", "my sister will")."""
    for p in participants:
        names = {p.name, p.name.split()[0]} if p.name else set()
        for name in sorted(names, key=len, reverse=True):
            if re.search(rf"\b{re.escape(name)}{_WILL}", s.text, re.IGNORECASE):
                return p.name
    if match := _TITLED.search(s.text):
        return " ".join(match[1].split())
    if match := _RELATION.search(s.text):
        whose, relation = match[1].lower(), match[2].lower()
        if whose == "my":
            return f"{s.name}'s {relation}"
        if whose == "your" and s.role != "client":
            return f"{client}'s {relation}"
        return f"{whose} {relation}" if whose != "the" else relation
    return None


def _owner(s: Sentence, participants: tuple[Participant, ...]) -> str:
    caseworker = next((p.name for p in participants if p.role == "caseworker"), "caseworker")
    client = next((p.name for p in participants if p.role == "client"), "client")
    text = s.lowered
    if named := _named_owner(s, participants, client):
        return named
    if any(_has(text, cue) for cue in ("we will", "we'll", "next visit", "next appointment")):
        return f"{caseworker} and {client}"
    if any(_has(text, cue) for cue in ("i will", "i'll", "i can help you")):
        return s.name
    return client if s.role == "caseworker" else caseworker  # "you need to...", "please bring"


def _summary(facts: NoteFacts, day: str, duration: float, topics: list[str]) -> str:
    others = ", ".join(f"{p.name} ({p.role})" for p in facts.participants if p.role != "caseworker")
    about = f" Topics: {', '.join(topics[:4])}." if topics else ""
    return f"{facts.modality.capitalize()} visit on {day} with {others}, {duration:g} min.{about}"


def _has(text: str, cue: str) -> bool:
    return re.search(rf"(?<![a-z]){re.escape(cue)}", text) is not None


def _id(kind: str, s: Sentence) -> str:
    return str(uuid.uuid5(_IDS, f"{kind}|{s.at}|{s.role}|{s.text}"))
