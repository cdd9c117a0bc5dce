"""Profiles can be deleted: the row stays, with the time it was deleted.

The codes a deleted profile held stay taken until a merchant detaches them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("promo_profile", sa.Column("deleted", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("promo_profile") as batch:
        batch.drop_column("deleted")
