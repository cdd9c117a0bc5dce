"""Token scopes: programs serve a database, tokens may be limited to programs or to reading.

A database with exactly one profile database has every program assigned to it, so that a
token limited to that database keeps reaching the programs it reached before.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("promo_loyalty_program") as batch:
        batch.add_column(sa.Column("db_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_promo_loyalty_program_db_id_promo_database",
            "promo_database",
            ["db_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.add_column(
        "promo_api_token",
        sa.Column("read_only", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "promo_api_token_program",
        sa.Column(
            "token_id",
            sa.Integer(),
            sa.ForeignKey(
                "promo_api_token.id",
                ondelete="CASCADE",
                name="fk_promo_api_token_program_token_id_promo_api_token",
            ),
            nullable=False,
        ),
        sa.Column(
            "loyalty_id",
            sa.Integer(),
            sa.ForeignKey(
                "promo_loyalty_program.id",
                ondelete="CASCADE",
                name="fk_promo_api_token_program_loyalty_id_promo_loyalty_program",
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("token_id", "loyalty_id", name="pk_promo_api_token_program"),
    )
    op.execute(
        "UPDATE promo_loyalty_program SET db_id = (SELECT id FROM promo_database)"
        " WHERE db_id IS NULL AND (SELECT count(*) FROM promo_database) = 1"
    )


def downgrade() -> None:
    op.drop_table("promo_api_token_program")
    with op.batch_alter_table("promo_api_token") as batch:
        batch.drop_column("read_only")
    with op.batch_alter_table("promo_loyalty_program") as batch:
        batch.drop_constraint("fk_promo_loyalty_program_db_id_promo_database", type_="foreignkey")
        batch.drop_column("db_id")
