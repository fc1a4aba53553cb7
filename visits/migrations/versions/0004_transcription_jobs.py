"""transcription jobs: the persisted queue of visits to transcribe; engine versions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 00:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import visits.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "transcription_jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("next_attempt_at", visits.db.UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", visits.db.UTCDateTime(), nullable=False),
        sa.Column("finished_at", visits.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_transcription_jobs_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcription_jobs")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_transcription_jobs_booking_id")),
    )
    with op.batch_alter_table("transcription_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transcription_jobs_next_attempt_at"), ["next_attempt_at"], unique=False
        )
    with op.batch_alter_table("transcripts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("versions", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transcripts", schema=None) as batch_op:
        batch_op.drop_column("versions")
    op.drop_table("transcription_jobs")
