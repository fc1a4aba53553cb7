"""supervision: supervisors' reviews of visits raised by the review queue

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 00:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import visits.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "visit_reviews",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("reviewer_id", sa.Uuid(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("signals", sa.JSON(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("created_at", visits.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_visit_reviews_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["staff_users.id"],
            name=op.f("fk_visit_reviews_reviewer_id_staff_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_reviews")),
    )
    with op.batch_alter_table("visit_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_visit_reviews_booking_id"), ["booking_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("visit_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visit_reviews_booking_id"))
    op.drop_table("visit_reviews")
