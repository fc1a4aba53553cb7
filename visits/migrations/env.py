"""Alembic environment: runs on the connection that visits.migrate hands over."""

from __future__ import annotations

from alembic import context

from visits.migrate import target_metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=target_metadata(),
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
