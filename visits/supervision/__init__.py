"""Supervision of a team's visits: filtered lists, a visit's full record with playback, the
review queue ranked from signals in the data, and per-caseworker metrics.

Supervisors only (see `visits.access`): caseworkers work their own cases elsewhere, and
administrators read no case content.
"""
