"""Typed application keys of the transcription room."""

from __future__ import annotations

from aiohttp import web

from transcription.jobs import TranscriptionQueue

TRANSCRIPTION_QUEUE = web.AppKey("transcription_queue", TranscriptionQueue)
