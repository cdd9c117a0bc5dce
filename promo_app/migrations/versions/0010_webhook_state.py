"""Alert webhook: the pool state last reported per program.

`promo_webhook_state` keeps it, so that a crossing of the low threshold (or to empty) is
reported once, whichever worker sees it, and not again after a restart.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "promo_webhook_state",
        sa.Column(
            "loyalty_id",
            sa.Integer(),
            sa.ForeignKey(
                "promo_loyalty_program.id",
                ondelete="CASCADE",
                name="fk_promo_webhook_state_loyalty_id_promo_loyalty_program",
            ),
            nullable=False,
        ),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("changed", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("loyalty_id", name="pk_promo_webhook_state"),
    )


def downgrade() -> None:
    op.drop_table("promo_webhook_state")
