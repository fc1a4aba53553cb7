"""The transcription room: the queue that turns recorded visits into transcripts and notes."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from transcription import routes
from transcription.jobs import TranscriptionQueue
from transcription.keys import TRANSCRIPTION_QUEUE
from visits.events import VisitRecorded
from visits.notes.service import attach_draft_note
from visits.web.api import Api
from visits.web.keys import DATABASE, EVENTS, SETTINGS


def room(app: web.Application, api: Api) -> None:
    routes.register(api)
    app.cleanup_ctx.append(_queue)


async def _queue(app: web.Application) -> AsyncIterator[None]:
    """Work the queue from start-up (jobs a restart interrupted included) until shutdown."""
    queue = TranscriptionQueue(app[SETTINGS], app[DATABASE], attach_draft_note)
    app[TRANSCRIPTION_QUEUE] = queue

    async def visit_recorded(event: VisitRecorded) -> None:
        await queue.enqueue(event.booking_id)

    app[EVENTS].subscribe(VisitRecorded, visit_recorded)
    await queue.start()
    try:
        yield
    finally:
        await queue.close()
