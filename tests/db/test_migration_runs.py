"""How a revision runs: in one transaction, without losing rows a table rebuild would take."""

from __future__ import annotations

import shutil
import textwrap
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import OperationalError

from promo_app.db.migrate import (
    SCRIPT_LOCATION,
    MigrationError,
    current_revision,
    new_revision,
    upgrade,
)
from promo_app.models import Attachment, PromoCode

from .test_migrations import head_revision, make_app

# The shipped head, and the number a revision added after it takes.
HEAD = head_revision()
NEXT = f"{int(HEAD) + 1:04d}"

REVISION = '''
"""{doc}"""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade():
{body}


def downgrade():
    pass
'''


@pytest.fixture
def scripts(tmp_path):
    """A copy of our scripts, to add a revision to."""
    location = tmp_path / "migrations"
    shutil.copytree(SCRIPT_LOCATION, location, ignore=shutil.ignore_patterns("__pycache__"))

    def add(doc: str, body: str) -> str:
        body = textwrap.indent(textwrap.dedent(body), "    ")
        text = REVISION.format(doc=doc, body=body, revision=NEXT, down=HEAD)
        (location / "versions" / f"{NEXT}_test.py").write_text(text)
        return str(location)

    return add


def counts(engine) -> tuple[int, int]:
    with engine.connect() as connection:
        return (
            connection.scalar(select(func.count()).select_from(PromoCode)),
            connection.scalar(select(func.count()).select_from(Attachment)),
        )


def test_a_table_rebuild_keeps_the_rows_that_refer_to_it(app, shop, engine, client, scripts):
    from ..helpers import call

    status, _ = call(
        client,
        "attach",
        {
            "token": shop.token,
            "db_id": shop.db_id,
            "loyalty_id": shop.personal_id,
            "email": "bob@example.com",
        },
    )
    assert status == 200
    before = counts(engine)
    # On SQLite a batch operation copies promo_profile and drops the old one, which with
    # foreign keys on would delete every attachment (ON DELETE CASCADE).
    location = scripts(
        "Add a check to promo_profile",
        """
        with op.batch_alter_table("promo_profile") as batch:
            batch.create_check_constraint("profile_id_not_empty", "length(profile_id) > 0")
        """,
    )
    with app.app_context():
        report = upgrade(engine, script_location=location)
    assert (report.before, report.after) == (HEAD, NEXT)
    assert counts(engine) == before and before[1] == 1
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT 1").scalar() == 1
        if connection.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@pytest.mark.sqlite_only
def test_a_rebuild_of_a_counted_table_that_leaves_its_triggers_fails_and_changes_nothing(
    app, shop, engine, scripts
):
    # The copy would lose promo_code's counting triggers (revision 0009): SQLite refuses the
    # rename, and the upgrade is rolled back whole (docs/migrations.md says what to do).
    before = counts(engine)
    location = scripts(
        "Add a check to promo_code",
        """
        with op.batch_alter_table("promo_code") as batch:
            batch.create_check_constraint("code_not_empty", "length(code) > 0")
        """,
    )
    with app.app_context(), pytest.raises(OperationalError, match="promo_code"):
        upgrade(engine, script_location=location)
    assert counts(engine) == before
    with engine.connect() as connection:
        assert current_revision(connection) == HEAD
        triggers = connection.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
        ).scalar()
    assert triggers == 7


def test_a_failing_revision_changes_nothing(app, engine, scripts):
    location = scripts(
        "Create a table, then fail",
        """
        op.create_table("promo_half_done", sa.Column("id", sa.Integer, primary_key=True))
        raise RuntimeError("the revision's own bug")
        """,
    )
    with pytest.raises(RuntimeError, match="own bug"):
        upgrade(engine, script_location=location)
    assert "promo_half_done" not in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert current_revision(connection) == HEAD


def test_a_new_revision_is_numbered_after_the_head(engine, scripts, tmp_path):
    location = scripts("placeholder", "pass")
    (tmp_path / "migrations" / "versions" / f"{NEXT}_test.py").unlink()
    path = new_revision(engine, "Loyalty tiers", script_location=location)
    assert path.endswith(f"{NEXT}_loyalty_tiers.py")
    text = Path(path).read_text()
    assert f'down_revision = "{HEAD}"' in text or f"down_revision = '{HEAD}'" in text
    # The models and the head agree, so autogenerate found nothing to write.
    upgrade_body = text.split("def upgrade() -> None:", 1)[1].split("def downgrade", 1)[0]
    assert "op." not in upgrade_body and "pass" in upgrade_body


def test_autogenerate_needs_a_database_at_the_head(engine, scripts):
    location = scripts("Already there", "pass")
    with pytest.raises(MigrationError, match=f"Upgrade the database to the head {NEXT}"):
        new_revision(engine, "next", script_location=location)


def test_two_upgrades_at_once_run_one_after_the_other(empty_database_url):
    apps = [make_app(empty_database_url) for _ in range(2)]
    start = threading.Barrier(2)
    reports, failures = [], []

    def run(app):
        with app.app_context():
            start.wait()
            try:
                reports.append(upgrade(app.extensions["promo"].engine))
            except Exception as error:  # reported below, with the other thread's result
                failures.append(error)

    threads = [threading.Thread(target=run, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for app in apps:
        with app.app_context():
            app.extensions["promo"].engine.dispose()
    assert failures == []
    assert sorted((report.before or "", report.after) for report in reports) == [
        ("", HEAD),
        (HEAD, HEAD),
    ]
