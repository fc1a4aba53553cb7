"""live visits: kiosk codes, and what happened to a visit on its booking

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 18:41:53.023564
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import visits.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kiosk_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("pin_hash", sa.String(length=255), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("expires_at", visits.db.UTCDateTime(), nullable=False),
        sa.Column("created_at", visits.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_kiosk_codes_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosk_codes")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_kiosk_codes_booking_id")),
        sa.UniqueConstraint("code", name=op.f("uq_kiosk_codes_code")),
    )
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kiosk", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_joined_at", visits.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("started_at", visits.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("ended_at", visits.db.UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "recording_status", sa.String(24), nullable=False, server_default="not_recorded"
            )
        )
        batch_op.add_column(
            sa.Column("recording_note", sa.Text(), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("recording_manifest", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_column("recording_manifest")
        batch_op.drop_column("recording_note")
        batch_op.drop_column("recording_status")
        batch_op.drop_column("ended_at")
        batch_op.drop_column("started_at")
        batch_op.drop_column("client_joined_at")

    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.drop_column("kiosk")
    op.drop_table("kiosk_codes")
