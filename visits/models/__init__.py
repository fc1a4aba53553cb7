"""Tables of the core: people, cases, bookings and everything a visit leaves behind."""

from visits.models.audit import AuditEvent
from visits.models.auth import StaffSession, ThrottleHit
from visits.models.cases import (
    AccessToken,
    Booking,
    BookingKind,
    BookingStatus,
    Case,
    CaseStatus,
    ParticipantRole,
    RecordingOutcome,
    case_clients,
)
from visits.models.people import Client, StaffRole, StaffUser, Team
from visits.models.records import (
    Consent,
    ConsentChoice,
    NoteRevision,
    NoteStatus,
    Recording,
    RecordingStatus,
    Transcript,
    VisitNote,
)
from visits.models.retention import AuditCheckpoint, LegalHold

__all__ = [
    "AccessToken",
    "AuditCheckpoint",
    "AuditEvent",
    "Booking",
    "BookingKind",
    "BookingStatus",
    "Case",
    "CaseStatus",
    "Client",
    "Consent",
    "ConsentChoice",
    "LegalHold",
    "NoteRevision",
    "NoteStatus",
    "ParticipantRole",
    "Recording",
    "RecordingOutcome",
    "RecordingStatus",
    "StaffRole",
    "StaffSession",
    "StaffUser",
    "Team",
    "ThrottleHit",
    "Transcript",
    "VisitNote",
    "case_clients",
]
