"""audit and retention: legal holds, audit checkpoints, tombstones of transcripts and notes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 00:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import visits.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("booking_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_by_id", sa.Uuid(), nullable=False),
        sa.Column("placed_at", visits.db.UTCDateTime(), nullable=False),
        sa.Column("released_by_id", sa.Uuid(), nullable=True),
        sa.Column("released_at", visits.db.UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "(case_id IS NULL) <> (booking_id IS NULL)",
            name=op.f("ck_legal_holds_case_or_booking"),
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_legal_holds_booking_id_bookings"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_legal_holds_case_id_cases"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["placed_by_id"],
            ["staff_users.id"],
            name=op.f("fk_legal_holds_placed_by_id_staff_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["released_by_id"],
            ["staff_users.id"],
            name=op.f("fk_legal_holds_released_by_id_staff_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
    )
    op.create_index(op.f("ix_legal_holds_case_id"), "legal_holds", ["case_id"])
    op.create_index(op.f("ix_legal_holds_booking_id"), "legal_holds", ["booking_id"])
    op.create_table(
        "audit_checkpoints",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("through_id", sa.BigInteger(), nullable=False),
        sa.Column("through_hash", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.Column("created_at", visits.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
        sa.UniqueConstraint("through_id", name=op.f("uq_audit_checkpoints_through_id")),
    )
    with op.batch_alter_table("transcripts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deleted_at", visits.db.UTCDateTime(), nullable=True))
    with op.batch_alter_table("visit_notes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deleted_at", visits.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("visit_notes", schema=None) as batch_op:
        batch_op.drop_column("deleted_at")
    with op.batch_alter_table("transcripts", schema=None) as batch_op:
        batch_op.drop_column("deleted_at")
    op.drop_table("audit_checkpoints")
    op.drop_index(op.f("ix_legal_holds_booking_id"), table_name="legal_holds")
    op.drop_index(op.f("ix_legal_holds_case_id"), table_name="legal_holds")
    op.drop_table("legal_holds")
