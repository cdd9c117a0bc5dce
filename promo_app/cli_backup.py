"""`flask promo backup DEST` and `flask promo restore SRC`: the database to a file and back."""

from __future__ import annotations

import os

import click
from flask import current_app

from .backup import (
    BackupError,
    backup_sqlite,
    pg_dump_command,
    pg_restore_command,
    restore_sqlite,
    sqlite_path,
)
from .cli import promo_cli
from .state import current_promo


def _url():
    return current_promo().engine.url


def _through_pgbouncer_note() -> None:
    if current_app.config["PROMO_PGBOUNCER"]:
        click.echo(
            "PROMO_PGBOUNCER is set: give it PostgreSQL's own address, not PgBouncer's (it "
            "changes settings of its session, which PgBouncer would pass on to the app).",
            err=True,
        )


@promo_cli.command("backup")
@click.argument("destination", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace DESTINATION if it exists.")
def backup_command(destination: str, force: bool) -> None:
    """Copy the database to DESTINATION while the service runs (SQLite's online backup).

    On PostgreSQL it prints the pg_dump command to use instead, and exits with status 1.
    """
    url = _url()
    if url.get_backend_name() == "postgresql":
        click.echo("The database is PostgreSQL: back it up with pg_dump, for example:", err=True)
        _through_pgbouncer_note()
        click.echo(pg_dump_command(url, destination))
        raise click.exceptions.Exit(1)
    try:
        copied = backup_sqlite(sqlite_path(url), destination, replace=force)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    secret = os.path.join(current_app.instance_path, "secret_key")
    click.echo(
        f"Backed up {copied.rows['promo_code']} codes and "
        f"{copied.rows['promo_attachment']} attachments ({copied.size} bytes); "
        "the copy passed PRAGMA integrity_check."
    )
    if not os.environ.get("SECRET_KEY") and os.path.exists(secret):
        click.echo(f"Keep {secret} with it: it signs the page's sign-in cookies.")
    click.echo(copied.path)


@promo_cli.command("restore")
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(source: str, yes: bool) -> None:
    """Replace the database with the backup SOURCE (stop the server first)."""
    url = _url()
    if url.get_backend_name() == "postgresql":
        click.echo("The database is PostgreSQL: restore it with pg_restore, for example:", err=True)
        _through_pgbouncer_note()
        click.echo(pg_restore_command(url, source))
        raise click.exceptions.Exit(1)
    database = sqlite_path(url)
    if not yes and not click.confirm(f"Replace {database} with {source}?"):
        raise click.ClickException("Nothing was changed.")
    current_promo().engine.dispose()  # this process's own connections
    try:
        restored = restore_sqlite(source, database)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Restored {restored.rows['promo_code']} codes and "
        f"{restored.rows['promo_attachment']} attachments into {database}."
    )
