"""`flask promo ...`: manage databases, programs, tokens, profiles and codes from a shell.

Every command that makes something prints its id (or token) as its last line.
"""

from __future__ import annotations

import csv
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
from .codes import get_program
from .errors import PromoError, ServiceError
from .importing.batches import IMPORT_BATCH_SIZE, import_codes
from .importing.files import CodeFileError, check_code_file, read_code_file
from .importing.report import ImportReport
from .models import Database
from .profiles import add_profile, get_database
from .profiles import create_database as create_profile_database
from .programs import create_program as make_program
from .state import current_promo, promo_session
from .tokens import create_token, revoke_token
from .transfer import TransferError, copy_data, open_engine, open_source_engine

promo_cli = AppGroup("promo", help="Manage the promo code service.")


def command(*args: Any, **kwargs: Any) -> Callable:
    """Declare a `promo` command that works on an up-to-date schema and reports domain
    errors as a short message (exit status 1) rather than a traceback."""

    def decorate(function: Callable) -> Callable:
        @wraps(function)
        def run(*a: Any, **kw: Any) -> Any:
            try:
                current_promo().create_all(promo_session())
                promo_session().commit()
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


@command("init-db")
def init_db() -> None:
    """Create the promo tables (those that exist are left as they are)."""
    click.echo(f"Promo tables are ready in {current_promo().engine.url.render_as_string()}.")


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
    "--one-per-profile",
    is_flag=True,
    help="A pool draw for a profile that holds a code of this program answers that code.",
)
def create_program(name: str, universal: bool, one_per_profile: bool) -> None:
    """Create a loyalty program (a pool of codes); print its loyalty_id."""
    program = make_program(promo_session(), name, universal, one_per_profile)
    promo_session().commit()
    kind = "universal" if universal else "personal"
    once = "; a profile draws one code at most" if one_per_profile else ""
    click.echo(f"Created loyalty program {name!r}; its codes are {kind} by default{once}.")
    click.echo(program.id)


@command("create-token")
@click.argument("name")
@click.option("--db-id", "db_ids", type=int, multiple=True, help="Limit it to this database.")
def create_token_command(name: str, db_ids: tuple[int, ...]) -> None:
    """Create an API token; print it once (only its hash is stored)."""
    secret = create_token(promo_session(), name, list(db_ids))
    promo_session().commit()
    scope = f"databases {list(db_ids)}" if db_ids else "every database"
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
@click.option("--db-id", type=int, required=True, help="The database to add them to.")
def import_profiles(path: str, db_id: int) -> None:
    """Add the profiles of a CSV file (columns email, phone and custom fields)."""
    database = get_database(promo_session(), db_id)
    declared = {field.name for field in database.custom_fields}
    with open(path, encoding="utf-8-sig", newline="") as file:
        reader = csv.DictReader(file)
        try:
            columns = [name.strip() for name in reader.fieldnames or []]
            unknown = [name for name in columns if name not in {"email", "phone", *declared}]
            if unknown:
                raise click.ClickException(
                    f"Columns {unknown} are not custom fields of database {db_id}; "
                    f"it declares {sorted(declared) or 'none'}."
                )
            reader.fieldnames = columns
            added, bad = _add_profiles(database, reader)
        except UnicodeDecodeError:
            promo_session().rollback()
            raise click.ClickException("The file is not UTF-8 text.") from None
    promo_session().commit()
    for line, reason in bad:
        click.echo(f"line {line}: {reason}", err=True)
    click.echo(f"Added {added} profiles to database {db_id}; {len(bad)} lines were not valid.")


def _add_profiles(database: Database, reader: csv.DictReader) -> tuple[int, list[tuple[int, str]]]:
    added, bad = 0, []
    for row in reader:
        if None in row:
            bad.append((reader.line_num, "more cells than the header has columns"))
            continue
        values = {name: (value or "").strip() for name, value in row.items()}
        if not any(values.values()):
            continue
        email, phone = values.pop("email", ""), values.pop("phone", "")
        add_profile(promo_session(), database, email=email, phone=phone, custom=values)
        added += 1
        if added % 1000 == 0:
            promo_session().commit()
    return added, bad


@command("import-codes")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--loyalty-id", type=int, required=True, help="The loyalty program.")
@click.option("--universal", is_flag=True, help="Import them as universal codes.")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=IMPORT_BATCH_SIZE,
    show_default=True,
    help="Codes per transaction at most; on SQLite one ends sooner when another writer "
    "waits for the write lock.",
)
def import_codes_command(path: str, loyalty_id: int, universal: bool, batch_size: int) -> None:
    """Import codes from a .txt (one per line) or .csv (a `code` column) file."""
    program = get_program(promo_session(), loyalty_id)
    size = os.path.getsize(path)
    with open(path, "rb") as file:
        try:
            check_code_file(file)
        except CodeFileError as error:
            raise click.ClickException(str(error)) from None
        report = ImportReport(keep=20)
        with click.progressbar(length=size, label="Importing", file=sys.stderr) as bar:

            def commit(_report: ImportReport) -> None:
                promo_session().commit()
                bar.update(file.tell() - bar.pos)

            try:
                import_codes(
                    promo_session(),
                    program,
                    read_code_file(file, path),
                    universal=universal or None,
                    batch_size=batch_size,
                    report=report,
                    after_batch=commit,
                )
            except CodeFileError as error:
                raise click.ClickException(str(error)) from None
    for line, code, outcome, message in report.problems:
        click.echo(f"line {line}: {outcome}: {code!r}: {message}", err=True)
    click.echo(
        f"Inserted {report.inserted}, duplicated {report.duplicated}, invalid {report.invalid}."
    )


@promo_cli.command("copy-data")
@click.argument("source_url")
@click.argument("target_url")
@click.option("--batch-size", type=click.IntRange(min=1), default=10_000, show_default=True)
@click.option("--force", is_flag=True, help="Replace the promo rows the target already has.")
def copy_data_command(source_url: str, target_url: str, batch_size: int, force: bool) -> None:
    """Copy every promo table from SOURCE_URL to TARGET_URL (e.g. SQLite to PostgreSQL).

    The target gets the promo tables if it lacks them; ids are kept. Stop the app first:
    rows written to the source during the copy may be missed.
    """
    source, target = open_source_engine(source_url), open_engine(target_url)
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


@command("demo")
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
