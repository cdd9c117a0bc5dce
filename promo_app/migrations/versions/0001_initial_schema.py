"""The schema of promo_app 0.1.0: ten promo tables, as its create_all made them.

A database that 0.1.0 made (promo tables, no promo_alembic_version) is adopted: the tables and
indexes it has are kept as they are, any that it lacks (an index added late in 0.1.0) are
created, and it is recorded at this revision. The tables are a frozen copy of the models of
0.1.0, not an import of promo_app.models, so that later changes to the models cannot change
what this revision does.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from promo_app.db.migrate import MigrationError

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

sa.Table(
    "promo_database",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("created", sa.DateTime, nullable=False),
)
sa.Table(
    "promo_custom_field",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("db_id", sa.ForeignKey("promo_database.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.UniqueConstraint("db_id", "name"),
)
sa.Table(
    "promo_profile",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("profile_id", sa.String(24), nullable=False, unique=True),
    sa.Column("db_id", sa.ForeignKey("promo_database.id", ondelete="CASCADE"), nullable=False),
    sa.Column("email", sa.String(320)),
    sa.Column("email_key", sa.String(320)),
    sa.Column("phone", sa.String(64)),
    sa.Column("phone_key", sa.String(64)),
    sa.Column("created", sa.DateTime, nullable=False),
    sa.Index("ix_promo_profile_email", "db_id", "email_key"),
    sa.Index("ix_promo_profile_phone", "db_id", "phone_key"),
)
sa.Table(
    "promo_profile_field",
    metadata,
    sa.Column(
        "profile_pk",
        sa.ForeignKey("promo_profile.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "field_id",
        sa.ForeignKey("promo_custom_field.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("value", sa.String(1024), nullable=False),
    sa.Index("ix_promo_profile_field_lookup", "field_id", "value"),
)
sa.Table(
    "promo_loyalty_program",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("universal", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created", sa.DateTime, nullable=False),
)
sa.Table(
    "promo_code",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "loyalty_id",
        sa.ForeignKey("promo_loyalty_program.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("code", sa.String(255), nullable=False),
    sa.Column("universal", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("free", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("expire_date", sa.DateTime),
    sa.Column("activated", sa.DateTime),
    sa.Column("created", sa.DateTime, nullable=False),
    sa.UniqueConstraint("loyalty_id", "code"),
    sa.Index(
        "ix_promo_code_free",
        "loyalty_id",
        "id",
        sqlite_where=sa.text("free = 1"),
        postgresql_where=sa.text("free"),
    ),
    sa.Index("ix_promo_code_program", "loyalty_id", "id"),
)
sa.Table(
    "promo_attachment",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code_id", sa.ForeignKey("promo_code.id", ondelete="CASCADE"), nullable=False),
    sa.Column("profile_pk", sa.ForeignKey("promo_profile.id", ondelete="CASCADE"), nullable=False),
    sa.Column("personal", sa.Boolean, nullable=False),
    sa.Column("attached", sa.DateTime, nullable=False),
    sa.UniqueConstraint("code_id", "profile_pk"),
    sa.Index(
        "uq_promo_attachment_personal",
        "code_id",
        unique=True,
        sqlite_where=sa.text("personal = 1"),
        postgresql_where=sa.text("personal"),
    ),
    sa.Index("ix_promo_attachment_profile", "profile_pk"),
)
sa.Table(
    "promo_api_token",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created", sa.DateTime, nullable=False),
    sa.Column("revoked", sa.DateTime),
)
sa.Table(
    "promo_api_token_scope",
    metadata,
    sa.Column(
        "token_id", sa.ForeignKey("promo_api_token.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("db_id", sa.ForeignKey("promo_database.id", ondelete="CASCADE"), primary_key=True),
)
sa.Table(
    "promo_admin_user",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("created", sa.DateTime, nullable=False),
)


def upgrade() -> None:
    bind = op.get_bind()
    _refuse_unknown_shapes(bind)
    metadata.create_all(bind, checkfirst=True)
    for table in metadata.sorted_tables:
        for index in table.indexes:
            index.create(bind, checkfirst=True)


def downgrade() -> None:
    metadata.drop_all(op.get_bind())


def _refuse_unknown_shapes(bind) -> None:
    """Adopt only tables that have every column of 0.1.0: another shape is not ours to stamp."""
    inspector = sa.inspect(bind)
    present = set(inspector.get_table_names())
    for table in metadata.sorted_tables:
        if table.name not in present:
            continue
        have = {column["name"] for column in inspector.get_columns(table.name)}
        missing = [column.name for column in table.columns if column.name not in have]
        if missing:
            raise MigrationError(
                f"Table {table.name} lacks the columns {', '.join(missing)} of promo_app "
                "0.1.0: it was not made by promo_app; nothing was changed."
            )
