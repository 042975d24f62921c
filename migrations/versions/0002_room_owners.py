"""Room ownership decided by the database: one row per LiveKit room name.

Revision ID: 0002_room_owners
Revises: 0001_initial
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa

revision = "0002_room_owners"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "room_owners",
        sa.Column("room_name", sa.Text(), nullable=False),
        sa.Column("auth_id", sa.String(255), nullable=False),
        sa.Column("room_sid", sa.String(64), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("room_name", name=op.f("pk_room_owners")),
    )


def downgrade() -> None:
    op.drop_table("room_owners")
