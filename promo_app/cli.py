"""`flask promo ...`: manage databases, programs, tokens, profiles and codes from a shell.

Every command that makes something prints its id (or token) as its last line.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError

from . import demo
from .admins import AdminUserError, set_admin_user
from .db.migrate import require_head
from .db_cli import db_cli, describe, upgrade_to_head
from .errors import PromoError, ServiceError
from .profiles import create_database as create_profile_database
from .profiles.files import import_profile_file
from .programs import create_program as make_program
from .state import current_promo, promo_session
from .tokens import create_token, revoke_token
from .transfer import TransferError, copy_data, open_engine, open_source_engine

# An id as the tables store it: a larger number names nothing (SQLite could not even bind it).
ID = click.IntRange(min=1, max=2**31 - 1)

promo_cli = AppGroup("promo", help="Manage the promo code service.")
promo_cli.add_command(db_cli)


def command(*args: Any, upgrade: bool = False, **kwargs: Any) -> Callable:
    """Declare a `promo` command that works on tables at the head revision and reports
    domain errors as a short message (exit status 1) rather than a traceback.

    An empty database gets the tables; tables at an older revision are upgraded first
    with `upgrade`, otherwise the command asks for `promo db upgrade` and changes nothing.
    """

    def decorate(function: Callable) -> Callable:
        @wraps(function)
        def run(*a: Any, **kw: Any) -> Any:
            try:
                if upgrade:
                    upgrade_to_head()
                else:
                    require_head(current_promo().engine)
                return function(*a, **kw)
            except (ServiceError, IntegrityError) as error:
                promo_session().rollback()
                raise click.ClickException(one_line(error)) from None
            finally:
                # Leave no transaction open: on SQLite it would hold the write lock.
                promo_session().close()

        return promo_cli.command(*args, **kwargs)(run)

    return decorate


def one_line(error: ServiceError | IntegrityError) -> str:
    """Say in one line what went wrong, in the service's words, never a traceback."""
    if isinstance(error, PromoError):
        details = "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in (error.errors or {}).items()
        )
        return f"{error.error_text}. {details}".strip()
    if isinstance(error, IntegrityError):
        return "Nothing was changed: it conflicts with what the database holds already."
    return str(error)


@promo_cli.command("init-db")
def init_db() -> None:
    """Bring the promo tables to the head revision (the same as `promo db upgrade`)."""
    click.echo(describe(upgrade_to_head()))


@command("create-database")
@click.argument("name")
@click.option("--custom-field", "custom_fields", multiple=True, help="A custom profile field.")
def create_database(name: str, custom_fields: tuple[str, ...]) -> None:
    """Create a database of customer profiles; print its db_id."""
    database = create_profile_database(promo_session(), name, custom_fields)
    promo_session().commit()
    click.echo(f"Created database {name!r} with custom fields {list(custom_fields) or 'none'}.")
    click.echo(database.id)


@command("create-program")
@click.argument("name")
@click.option("--universal", is_flag=True, help="Its codes may go to any number of profiles.")
@click.option(
    "--db-id",
    type=ID,
    default=None,
    help="The database whose customers it serves: tokens limited to that database reach it.",
)
@click.option(
    "--one-per-profile",
    is_flag=True,
    help="A pool draw for a profile that holds a code of this program answers that code.",
)
def create_program(name: str, universal: bool, db_id: int | None, one_per_profile: bool) -> None:
    """Create a loyalty program (a pool of codes); print its loyalty_id."""
    program = make_program(promo_session(), name, universal, db_id, one_per_profile=one_per_profile)
    promo_session().commit()
    kind = "universal" if universal else "personal"
    owner = f"database {db_id}" if db_id is not None else "no database (unrestricted tokens only)"
    once = "; a profile draws one code at most" if one_per_profile else ""
    click.echo(
        f"Created loyalty program {name!r} for {owner}; its codes are {kind} by default{once}."
    )
    click.echo(program.id)


@command("create-token")
@click.argument("name")
@click.option(
    "--db-id",
    "db_ids",
    type=ID,
    multiple=True,
    help="Limit it to this database and its programs (repeatable).",
)
@click.option(
    "--loyalty-id",
    "loyalty_ids",
    type=ID,
    multiple=True,
    help="Limit it to this loyalty program (repeatable).",
)
@click.option("--read-only", is_flag=True, help="It may only read: get and export_all.")
def create_token_command(
    name: str, db_ids: tuple[int, ...], loyalty_ids: tuple[int, ...], read_only: bool
) -> None:
    """Create an API token; print it once (only its hash is stored)."""
    secret = create_token(
        promo_session(), name, list(db_ids), loyalty_ids=list(loyalty_ids), read_only=read_only
    )
    promo_session().commit()
    scope = f"databases {list(db_ids)}" if db_ids else "every database"
    if loyalty_ids:
        scope += f", programs {list(loyalty_ids)}"
    if read_only:
        scope += ", read only"
    click.echo(f"Created token {name!r} for {scope}. Keep it now: it is not shown again.")
    click.echo(secret)


@command("revoke-token")
@click.argument("name")
def revoke_token_command(name: str) -> None:
    """Revoke an API token: calls with it are answered 401 Invalid API token."""
    revoke_token(promo_session(), name)
    promo_session().commit()
    click.echo(f"Revoked token {name!r}.")


@command("import-profiles")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--db-id", type=ID, required=True, help="The database to add them to.")
@click.option(
    "--match",
    default=None,
    help="How a line finds its profile: email, phone or a custom field "
    "(default: its email, else its phone).",
)
def import_profiles(path: str, db_id: int, match: str | None) -> None:
    """Add or update the profiles of a CSV file (columns email, phone and custom fields)."""
    with (
        current_promo().engine.connect() as connection,
        open(path, encoding="utf-8-sig", newline="") as file,
        click.progressbar(length=os.path.getsize(path), label="Importing", file=sys.stderr) as bar,
    ):
        # The bytes read so far: the text file cannot say where it is while csv reads it.
        report = import_profile_file(
            connection,
            db_id,
            file,
            match=match,
            after_chunk=lambda _report: bar.update(file.buffer.tell() - bar.pos),
        )
    for line, reason in report.problems:
        click.echo(f"line {line}: {reason}", err=True)
    if report.refused > len(report.problems):
        click.echo(f"... and {report.refused - len(report.problems)} more lines", err=True)
    click.echo(
        f"Added {report.created} profiles to database {db_id} and updated {report.updated}; "
        f"{report.refused} lines were not valid."
    )


@promo_cli.command("copy-data")
@click.argument("source_url")
@click.argument("target_url")
@click.option("--batch-size", type=click.IntRange(min=1), default=10_000, show_default=True)
@click.option("--force", is_flag=True, help="Replace the promo rows the target already has.")
def copy_data_command(source_url: str, target_url: str, batch_size: int, force: bool) -> None:
    """Copy every promo table from SOURCE_URL to TARGET_URL (e.g. SQLite to PostgreSQL).

    The target is brought to the head revision first; ids are kept. Stop the app first:
    rows written to the source during the copy may be missed.
    """
    pgbouncer = bool(current_app.config["PROMO_PGBOUNCER"])
    source = open_source_engine(source_url, behind_pgbouncer=pgbouncer)
    target = open_engine(target_url, behind_pgbouncer=pgbouncer)
    try:
        if source.url == target.url:
            raise click.ClickException("SOURCE_URL and TARGET_URL are the same database.")
        shown = target.url.render_as_string(hide_password=True)
        click.echo(f"Copying promo tables to {shown} ...", err=True)
        report = copy_data(
            source,
            target,
            batch_size=batch_size,
            replace=force,
            progress=lambda table, rows: click.echo(f"  {table}: {rows}", err=True),
        )
    except TransferError as error:
        raise click.ClickException(str(error)) from None
    finally:
        source.dispose()
        target.dispose()
    for table, rows in report.rows.items():
        click.echo(f"{table}: {rows} rows")
    click.echo(f"Copied {sum(report.rows.values())} rows.")


@command("demo", upgrade=True)
@click.option("--server", default="http://127.0.0.1:5000", help="Where the service will run.")
def demo_command(server: str) -> None:
    """Create a demo shop on first run; print a curl command that attaches a code."""
    for line in demo.ensure_demo(promo_session(), server):
        click.echo(line)


@command("create-admin")
@click.argument("name")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Asked (hidden, twice) when not given.",
)
def create_admin(name: str, password: str) -> None:
    """Create an admin user of the page, or set a new password for an existing one."""
    try:
        user, created = set_admin_user(promo_session(), name, password)
    except AdminUserError as error:
        promo_session().rollback()
        raise click.ClickException(str(error)) from None
    promo_session().commit()
    if created:
        click.echo(f"Created admin {user.name!r}; sign in at {_page_path()}.")
    else:
        click.echo(f"Set a new password for admin {user.name!r}.")


def _page_path() -> str:
    return current_app.config["PROMO_URL_PREFIX"].rstrip("/") + "/admin/"
