"""Safe retries: the answers of Idempotency-Key calls, and programs of one code per customer.

`promo_idempotency_key` keeps a writing call's first answer per token and key, pruned by
later calls. `promo_loyalty_program.one_per_profile` makes a pool draw for a profile that
holds a code of the program answer that code; `promo_attachment.one_per_profile_loyalty_id`
and its partial unique index refuse a second one made by a concurrent draw.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "promo_idempotency_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "token_id",
            sa.Integer(),
            sa.ForeignKey(
                "promo_api_token.id",
                ondelete="CASCADE",
                name="fk_promo_idempotency_key_token_id_promo_api_token",
            ),
            nullable=False,
        ),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_promo_idempotency_key"),
        sa.UniqueConstraint("token_id", "key", name="uq_promo_idempotency_key_token_id_key"),
    )
    op.create_index("ix_promo_idempotency_key_created", "promo_idempotency_key", ["created"])
    op.add_column(
        "promo_loyalty_program",
        sa.Column("one_per_profile", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "promo_attachment",
        sa.Column("one_per_profile_loyalty_id", sa.Integer(), nullable=True),
    )
    op.create_index(
        "uq_promo_attachment_one_per_profile",
        "promo_attachment",
        ["one_per_profile_loyalty_id", "profile_pk"],
        unique=True,
        sqlite_where=sa.text("one_per_profile_loyalty_id IS NOT NULL"),
        postgresql_where=sa.text("one_per_profile_loyalty_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_promo_attachment_one_per_profile", table_name="promo_attachment")
    with op.batch_alter_table("promo_attachment") as batch:
        batch.drop_column("one_per_profile_loyalty_id")
    with op.batch_alter_table("promo_loyalty_program") as batch:
        batch.drop_column("one_per_profile")
    op.drop_index("ix_promo_idempotency_key_created", table_name="promo_idempotency_key")
    op.drop_table("promo_idempotency_key")
