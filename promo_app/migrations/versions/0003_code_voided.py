"""Codes can be voided: the time it was done; a voided code is never given out.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("promo_code", sa.Column("voided", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("promo_code") as batch:
        batch.drop_column("voided")
