"""`flask promo db …`: the promo tables' own migrations (upgrade, current, history, downgrade)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from .db.migrate import (
    MigrationError,
    UpgradeReport,
    current_revision,
    downgrade,
    head_revision,
    new_revision,
    script_directory,
    upgrade,
)
from .state import current_promo

db_cli = AppGroup("db", help="Migrate the promo tables (their own revisions, never the host's).")


def upgrade_to_head() -> UpgradeReport:
    """Upgrade the promo tables to the head revision, as a one-line error if that fails."""
    try:
        return upgrade(current_promo().engine)
    except MigrationError as error:
        raise click.ClickException(str(error)) from None


def describe(report: UpgradeReport) -> str:
    where = current_promo().engine.url.render_as_string()
    if report.adopted:
        return (
            f"Found promo tables made before migrations in {where}: kept them as they are, "
            f"recorded them at revision {report.after}."
        )
    if report.before == report.after:
        return f"The promo tables in {where} are at the head revision {report.after}."
    start = report.before or "an empty database"
    return f"Upgraded the promo tables in {where} from {start} to {report.after}."


@db_cli.command("upgrade")
def upgrade_command() -> None:
    """Upgrade the promo tables to the head revision (creating them if need be)."""
    click.echo(describe(upgrade_to_head()))


@db_cli.command("current")
def current_command() -> None:
    """Print the revision the promo tables are at."""
    with current_promo().engine.connect() as connection:
        revision = current_revision(connection)
    head = head_revision()
    if revision is None:
        click.echo("none (no promo revision recorded: run flask promo db upgrade)")
    elif revision == head:
        click.echo(f"{revision} (head)")
    else:
        click.echo(f"{revision} (behind the head {head}: run flask promo db upgrade)")


@db_cli.command("history")
def history_command() -> None:
    """List the revisions, oldest first, marking the one the database is at."""
    with current_promo().engine.connect() as connection:
        revision = current_revision(connection)
    scripts = list(script_directory().walk_revisions())
    for script in reversed(scripts):
        mark = " (current)" if script.revision == revision else ""
        click.echo(f"{script.revision} {script.doc}{mark}")


@db_cli.command("downgrade")
@click.option("--yes", is_flag=True, help="Do not ask before dropping every promo table.")
def downgrade_command(yes: bool) -> None:
    """Undo the last revision applied. Undoing the first drops every promo table."""
    with current_promo().engine.connect() as connection:
        revision = current_revision(connection)
    first = script_directory().get_revision(revision) if revision else None
    if first is not None and first.down_revision is None and not yes:
        click.confirm(
            f"Revision {revision} is the first: undoing it drops every promo table and row. Go on?",
            abort=True,
        )
    try:
        now = downgrade(current_promo().engine)
    except MigrationError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Downgraded the promo tables from {revision} to {now or 'nothing (no tables)'}.")


@db_cli.command("revision")
@click.option("-m", "--message", required=True, help="What the revision changes.")
@click.option(
    "--autogenerate/--empty",
    default=True,
    show_default=True,
    help="Write the difference between the models and a database at the head.",
)
def revision_command(message: str, autogenerate: bool) -> None:
    """For maintainers: write the next revision into promo_app/migrations/versions."""
    try:
        path = new_revision(current_promo().engine, message, autogenerate=autogenerate)
    except MigrationError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Wrote {path}: read it, edit it, test it (docs/migrations.md).")
