"""Upload jobs: a file of codes uploaded through the page is imported by a thread of the server.

`promo_upload_job` keeps each upload's state, its counts so far and its first problem
lines, and a heartbeat that tells a running job from one whose process died.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "promo_upload_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "loyalty_id",
            sa.Integer(),
            sa.ForeignKey(
                "promo_loyalty_program.id",
                ondelete="CASCADE",
                name="fk_promo_upload_job_loyalty_id_promo_loyalty_program",
            ),
            nullable=False,
        ),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("admin_name", sa.String(255), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("file_bytes", sa.BigInteger(), nullable=False),
        sa.Column("bytes_read", sa.BigInteger(), nullable=False),
        sa.Column("inserted", sa.BigInteger(), nullable=False),
        sa.Column("duplicated", sa.BigInteger(), nullable=False),
        sa.Column("invalid", sa.BigInteger(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("started", sa.DateTime(), nullable=True),
        sa.Column("finished", sa.DateTime(), nullable=True),
        sa.Column("heartbeat", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_promo_upload_job"),
    )
    op.create_index("ix_promo_upload_job_loyalty_id_id", "promo_upload_job", ["loyalty_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_promo_upload_job_loyalty_id_id", table_name="promo_upload_job")
    op.drop_table("promo_upload_job")
