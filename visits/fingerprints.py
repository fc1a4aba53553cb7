"""The SHA-256 fingerprints of transcripts and signed notes, defined once.

Whoever stores `Transcript.sha256` or `VisitNote.sha256` computes it here, and
`audit verify` recomputes it here, so the two can never drift apart. Recording fingerprints
are the SHA-256 of the media file's plaintext (`visits.crypto.plain_sha256`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from visits.models import Transcript, VisitNote


def canonical_json(value: Any) -> bytes:
    """One byte string per JSON value: sorted keys, no spaces, UTF-8."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()


def transcript_sha256(text: str, segments: list[dict[str, Any]]) -> str:
    """Covers the full text and every segment (times, speakers, confidence)."""
    return hashlib.sha256(canonical_json({"segments": segments, "text": text})).hexdigest()


def note_sha256(note: VisitNote) -> str:
    """Covers what a signature vouches for: the body, who signed, and when."""
    signed_at = note.signed_at.isoformat(timespec="microseconds") if note.signed_at else None
    return hashlib.sha256(
        canonical_json(
            {
                "body": note.body,
                "booking_id": str(note.booking_id),
                "signed_at": signed_at,
                "signed_by_id": str(note.signed_by_id) if note.signed_by_id else None,
            }
        )
    ).hexdigest()


def transcript_fingerprint(transcript: Transcript) -> str:
    return transcript_sha256(transcript.text, transcript.segments)
