"""A note as JSON, plain text or printable HTML, with its addenda and its signature state."""

from __future__ import annotations

import html
from typing import Any

from visits.models import NoteStatus, VisitNote

CONTENT_TYPES = {
    "json": "application/json",
    "text": "text/plain; charset=utf-8",
    "html": "text/html; charset=utf-8",
}


def note_dict(note: VisitNote, addenda: list[VisitNote], names: dict[Any, str]) -> dict[str, Any]:
    """The note with its state, signature and addenda, as the API and exports show it."""
    return {
        "id": str(note.id),
        "booking_id": str(note.booking_id),
        "case_id": str(note.case_id),
        "status": note.status.value,
        "signed_by": names.get(note.signed_by_id) if note.signed_by_id else None,
        "signed_at": note.signed_at.isoformat() if note.signed_at else None,
        "sha256": note.sha256,
        "updated_at": note.updated_at.isoformat() if note.updated_at else None,
        "body": note.body,
        "addenda": [
            {
                "id": str(a.id),
                "text": a.body.get("text", ""),
                "signed_by": names.get(a.signed_by_id),
                "signed_at": a.signed_at.isoformat() if a.signed_at else None,
                "sha256": a.sha256,
            }
            for a in addenda
        ],
    }


def _state(data: dict[str, Any]) -> str:
    if data["status"] == NoteStatus.SIGNED.value:
        return f"SIGNED by {data['signed_by']} at {data['signed_at']}"
    return "DRAFT - not signed"


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return ""
    whole = int(seconds)
    return f"[{whole // 60:02d}:{whole % 60:02d}] "


def _statement(s: dict[str, Any]) -> str:
    return f"{_clock(s.get('at'))}{s['speaker']}: {s['text']}"


def _action(a: dict[str, Any]) -> str:
    due = f", due {a['due']}" if a.get("due") else ""
    return f"[{a['status']}] {a['text']} (owner: {a['owner']}{due})"


def _risk(r: dict[str, Any]) -> str:
    return f"[{r['status']}] {r['category']}: {_clock(r.get('at'))}{r['speaker']}: {r['line']}"


def _consent(c: dict[str, Any]) -> str:
    return (
        f"{c['name']} ({c['role']}) {c['choice']}, notice {c['notice_version']} "
        f"in {c['language']}, {c['answered_at']}"
    )


def _provenance(body: dict[str, Any]) -> str:
    """Readable: engine=faster-whisper, model=tiny.en, versions: faster-whisper 1.2.1."""
    parts = []
    for key, value in body.get("provenance", {}).items():
        if isinstance(value, dict):
            listed = ", ".join(f"{name} {version}" for name, version in sorted(value.items()))
            parts.append(f"{key}: {listed or 'none'}")
        elif value:
            parts.append(f"{key}={value}")
    return ", ".join(parts)


def _fingerprint(data: dict[str, Any]) -> str:
    return f"SHA-256 {data['sha256']}" if data.get("sha256") else "none (not signed)"


def as_text(data: dict[str, Any]) -> str:
    body = data["body"]
    visit = body.get("visit", {})
    lines = [
        f"VISIT NOTE ({_state(data)})",
        f"Date: {visit.get('date')} {visit.get('start')}-{visit.get('end')} "
        f"{visit.get('time_zone')} ({visit.get('duration_minutes')} min, {visit.get('modality')})",
        "Participants: "
        + "; ".join(f"{p['name']} ({p['role']})" for p in body.get("participants", [])),
        f"Interpreter: {body.get('interpreter') or 'none'}",
        "Consent: " + ("; ".join(map(_consent, body.get("consent", []))) or "none recorded"),
        f"Purpose: {body.get('purpose', '')}",
        "",
        "Summary",
        body.get("summary", ""),
        "",
        "Data (key statements)",
        *(f"- {_statement(s)}" for s in body.get("key_statements", [])),
        "",
        "Topics: " + ", ".join(body.get("topics", [])),
        "",
        "Action items",
        *(f"- {_action(a)}" for a in body.get("action_items", [])),
        "",
        "Possible risk indicators",
        *(f"- {_risk(r)}" for r in body.get("risk_indicators", [])),
        "",
        f"Provenance: {_provenance(body)}",
        f"Signature fingerprint: {_fingerprint(data)}",
    ]
    for addendum in data["addenda"]:
        lines += [
            "",
            f"ADDENDUM signed by {addendum['signed_by']} at {addendum['signed_at']} "
            f"({_fingerprint(addendum)})",
            addendum["text"],
        ]
    return "\n".join(lines) + "\n"


def as_html(data: dict[str, Any]) -> str:
    """A printable page: every value escaped, the state in the title and the heading."""
    e = html.escape
    body = data["body"]
    visit = body.get("visit", {})

    def items(rows: list[str]) -> str:
        if not rows:
            return "<p>-</p>"
        return "<ul>" + "".join(f"<li>{e(row)}</li>" for row in rows) + "</ul>"

    when = (
        f"{visit.get('date')} {visit.get('start')}-{visit.get('end')} {visit.get('time_zone')}, "
        f"{visit.get('duration_minutes')} min, {visit.get('modality')}"
    )
    people = "; ".join(f"{p['name']} ({p['role']})" for p in body.get("participants", []))
    sections = [
        f"<h1>Visit note <span class=state>{e(_state(data))}</span></h1>",
        f"<dl><dt>Date</dt><dd>{e(when)}</dd><dt>Participants</dt><dd>{e(people)}</dd>",
        f"<dt>Interpreter</dt><dd>{e(body.get('interpreter') or 'none')}</dd>",
        f"<dt>Purpose</dt><dd>{e(body.get('purpose', ''))}</dd></dl>",
        "<h2>Consent</h2>" + items([_consent(c) for c in body.get("consent", [])]),
        f"<h2>Summary</h2><p>{e(body.get('summary', ''))}</p>",
        "<h2>Data</h2>" + items([_statement(s) for s in body.get("key_statements", [])]),
        f"<h2>Topics</h2><p>{e(', '.join(body.get('topics', [])))}</p>",
        "<h2>Action items</h2>" + items([_action(a) for a in body.get("action_items", [])]),
        "<h2>Possible risk indicators</h2>"
        + items([_risk(r) for r in body.get("risk_indicators", [])]),
        f"<h2>Provenance</h2><p>{e(_provenance(body))}</p>",
        f"<p class=fingerprint>Signature fingerprint: {e(_fingerprint(data))}</p>",
    ]
    for addendum in data["addenda"]:
        sections.append(
            f"<section class=addendum><h2>Addendum, signed by {e(str(addendum['signed_by']))} "
            f"at {e(str(addendum['signed_at']))}</h2><p>{e(addendum['text'])}</p></section>"
        )
    title = f"Visit note {visit.get('date')} ({data['status'].upper()})"
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{e(title)}</title>"
        "<style>body{font:12pt/1.4 system-ui,sans-serif;max-width:48rem;margin:1rem auto}"
        ".state{font-size:.6em;border:2px solid;padding:.1em .4em}"
        ".fingerprint{font-family:monospace;font-size:.8em;word-break:break-all}"
        "@media print{body{margin:0}h2{break-after:avoid}li{break-inside:avoid}"
        "body.draft::before{content:'DRAFT - NOT SIGNED';display:block;font-weight:bold}}"
        f"</style></head><body class={data['status']}>" + "".join(sections) + "</body></html>"
    )
