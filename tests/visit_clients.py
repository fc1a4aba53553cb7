"""Participants of a live visit as tests drive them (the package's synthetic participants)."""

from signaling.synthetic import LOOPBACK_ICE, VisitParticipant

__all__ = ["LOOPBACK_ICE", "VisitParticipant"]
