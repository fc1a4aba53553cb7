"""Typed keys for what the scheduler room keeps on the application."""

from __future__ import annotations

from aiohttp import web

from scheduler.jobs import JobContext

JOBS = web.AppKey("scheduler_jobs", JobContext)
