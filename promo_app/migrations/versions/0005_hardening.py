"""Revocable page sessions, and a pool index that leaves out the codes a draw found expired.

`promo_admin_user.session_nonce`: each session carries it, and a sign-out, a new password or
the admin's removal changes it, ending every session of that admin. An admin without one
gets one at the next sign-in. `promo_code.lapsed`: a draw that meets expired free codes
marks them, which takes them out of `ix_promo_code_pool`, the index draws walk.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("promo_admin_user", sa.Column("session_nonce", sa.String(64), nullable=True))
    op.add_column(
        "promo_code",
        sa.Column("lapsed", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.drop_index("ix_promo_code_free", table_name="promo_code")
    op.create_index(
        "ix_promo_code_pool",
        "promo_code",
        ["loyalty_id", "id"],
        sqlite_where=sa.text("free = 1 AND lapsed = 0"),
        postgresql_where=sa.text("free AND NOT lapsed"),
    )


def downgrade() -> None:
    op.drop_index("ix_promo_code_pool", table_name="promo_code")
    op.create_index(
        "ix_promo_code_free",
        "promo_code",
        ["loyalty_id", "id"],
        sqlite_where=sa.text("free = 1"),
        postgresql_where=sa.text("free"),
    )
    with op.batch_alter_table("promo_code") as batch:
        batch.drop_column("lapsed")
    with op.batch_alter_table("promo_admin_user") as batch:
        batch.drop_column("session_nonce")
