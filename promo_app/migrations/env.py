"""Alembic's environment for the promo tables. `promo_app.db.migrate` runs it with a
connection in its transaction; a host's Alembic never sees these scripts."""

from __future__ import annotations

from alembic import context

from promo_app.db.migrate import configure_options
from promo_app.models import PromoModel

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Run the promo migrations with `flask promo db …`, not `alembic`.")
context.configure(connection=connection, target_metadata=PromoModel.metadata, **configure_options())
with context.begin_transaction():
    context.run_migrations()
