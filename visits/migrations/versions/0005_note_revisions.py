"""note revisions: every saved version of a visit note, for its history

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import visits.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "note_revisions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("note_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("at", visits.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["staff_users.id"],
            name=op.f("fk_note_revisions_author_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["note_id"],
            ["visit_notes.id"],
            name=op.f("fk_note_revisions_note_id_visit_notes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note_revisions")),
    )
    with op.batch_alter_table("note_revisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_note_revisions_note_id"), ["note_id"], unique=False)


def downgrade() -> None:
    op.drop_table("note_revisions")
