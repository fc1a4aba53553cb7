"""The SHA-256 fingerprints of transcripts and signed notes, defined once.

The transcription room stores `Transcript.sha256` and the notes package `VisitNote.sha256`
through these functions, and `audit verify` recomputes them here, so the two can never drift
apart. Recording fingerprints are the SHA-256 of the media file's plaintext
(`visits.crypto.plain_sha256`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from visits.models import Transcript, VisitNote


def canonical_json(value: Any) -> bytes:
    """One byte string per JSON value: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def transcript_sha256(segments: list[dict[str, Any]]) -> str:
    """Covers every segment: times, speakers, text, confidence (the full text derives from
    them)."""
    return hashlib.sha256(canonical_json(segments)).hexdigest()


def note_sha256(note: VisitNote) -> str:
    """Covers what a signature vouches for: the note, the body, who signed, when, and what
    it is an addendum to."""
    signed_at = note.signed_at.isoformat(timespec="microseconds") if note.signed_at else None
    return hashlib.sha256(
        canonical_json(
            {
                "note_id": str(note.id),
                "addendum_to": str(note.addendum_to_id) if note.addendum_to_id else None,
                "body": note.body,
                "signed_by": str(note.signed_by_id),
                "signed_at": signed_at,
            }
        )
    ).hexdigest()


def transcript_fingerprint(transcript: Transcript) -> str:
    return transcript_sha256(transcript.segments)
