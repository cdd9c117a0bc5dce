"""The history's indexes hold only the events they serve, a code's newest first everywhere.

The program's index holds the events with a program, the code's those with a code, and
gives a code's events newest first on PostgreSQL too (a universal code may have millions).
An event of a profile, a token or a sign-in touches neither index, a bulk change's event
only the program's; an attachment's event still both, which the page's two histories
need (bench/RESULTS.md, "The history's indexes").

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_promo_event_code", table_name="promo_event")
    op.drop_index("ix_promo_event_program", table_name="promo_event")
    op.create_index(
        "ix_promo_event_program",
        "promo_event",
        ["loyalty_id", "id"],
        sqlite_where=sa.text("loyalty_id IS NOT NULL"),
        postgresql_where=sa.text("loyalty_id IS NOT NULL"),
    )
    op.create_index(
        "ix_promo_event_code",
        "promo_event",
        ["loyalty_id", "code", "id"],
        sqlite_where=sa.text("code IS NOT NULL"),
        postgresql_where=sa.text("code IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_promo_event_code", table_name="promo_event")
    op.drop_index("ix_promo_event_program", table_name="promo_event")
    op.create_index("ix_promo_event_program", "promo_event", ["loyalty_id", "id"])
    op.create_index("ix_promo_event_code", "promo_event", ["loyalty_id", "code"])
