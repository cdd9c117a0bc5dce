"""History: the append-only `promo_event` table of every change, who made it and when.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "promo_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("db_id", sa.Integer(), nullable=True),
        sa.Column("loyalty_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(255), nullable=True),
        sa.Column("profile_id", sa.String(24), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_promo_event"),
    )
    op.create_index("ix_promo_event_program", "promo_event", ["loyalty_id", "id"])
    op.create_index("ix_promo_event_code", "promo_event", ["loyalty_id", "code"])


def downgrade() -> None:
    op.drop_index("ix_promo_event_code", table_name="promo_event")
    op.drop_index("ix_promo_event_program", table_name="promo_event")
    op.drop_table("promo_event")
