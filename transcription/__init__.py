"""Whisper engines, visit transcripts and draft visit notes."""
