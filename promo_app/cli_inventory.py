"""`flask promo list-… / delete-… / rename-program / set-expiry`: see and tidy what the
service holds. Lists print a table, or JSON with --json for scripts."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click
from flask import current_app

from . import inventory, webhook
from .alerts import EMPTY, LOW, alert_line, pool_state
from .cli import ID, command
from .codes import get_program
from .profiles import get_database
from .state import current_promo, promo_session
from .times import parse_expire_date, rfc3339

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON, for scripts.")
yes_option = click.option("--yes", is_flag=True, help="Do not ask for confirmation.")


def show(rows: list[dict[str, Any]], as_json: bool, columns: list[str]) -> None:
    """Print rows as JSON, or as a table of `columns` (lists joined by commas)."""
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return

    def cell(value: Any) -> str:
        if isinstance(value, list):
            return ",".join(str(item) for item in value) or "-"
        return "-" if value is None or value == "" else str(value)

    table = [columns, *([cell(row[name]) for name in columns] for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    for line in table:
        click.echo(
            "  ".join(
                value.ljust(width) for value, width in zip(line, widths, strict=True)
            ).rstrip()
        )


def listing(name: str, columns: list[str], rows: Callable, help: str) -> None:
    @command(name, help=help)
    @json_option
    def run(as_json: bool) -> None:
        show(rows(promo_session()), as_json, columns)


listing(
    "list-databases",
    ["db_id", "name", "custom_fields", "profiles", "created"],
    inventory.list_databases,
    "List the databases: custom fields, number of profiles.",
)
listing(
    "list-programs",
    ["loyalty_id", "name", "kind", "codes", "free", "attached", "created"],
    inventory.program_counts,
    "List the loyalty programs: codes, free codes, attached codes.",
)
listing(
    "list-tokens",
    ["name", "databases", "programs", "read_only", "created", "last_used", "revoked"],
    inventory.list_tokens,
    "List the API tokens: databases and programs (all, or which), read only, created, last "
    "used (within a minute), revoked; never a secret.",
)
listing(
    "list-admins",
    ["name", "created"],
    inventory.list_admins,
    "List the admin users of the page.",
)


@command("stats")
@click.option(
    "--check",
    is_flag=True,
    help="Exit 1 if a program is low, 2 if one is empty, saying which (for cron and monitors).",
)
@click.option(
    "--notify",
    is_flag=True,
    help="Also send the alert webhook's event of each program that crossed since the last "
    "one reported (PROMO_WEBHOOK_URL), as the service does after attach calls.",
)
@json_option
def stats(check: bool, notify: bool, as_json: bool) -> None:
    """Show each program's codes, free and attached, and whether its pool runs low."""
    threshold = current_app.config["PROMO_LOW_CODES_THRESHOLD"]
    programs = inventory.program_counts(promo_session())
    for program in programs:
        program["pool"] = pool_state(program, threshold)
    if notify:
        promo_session().commit()  # end the read (SQLite: no lock held while sending)
        try:
            sent = webhook.notify(current_app.config, current_promo().engine, programs)
        except webhook.WebhookSettingError as error:
            raise click.ClickException(str(error)) from None
        if not as_json:
            click.echo(f"Sent {sent} alert webhook events.")
    states = {program["pool"] for program in programs}
    if check and not as_json:
        alerts = [alert_line(row, threshold) for row in programs if row["pool"] != "ok"]
        for line in alerts:
            click.echo(line)
        if not alerts:
            click.echo(f"Every personal program has at least {threshold} free codes.")
    else:
        columns = ["loyalty_id", "name", "kind", "codes", "free", "attached", "pool"]
        show(programs, as_json, columns)
    if check and states & {EMPTY, LOW}:
        raise click.exceptions.Exit(2 if EMPTY in states else 1)


def confirm(question: str, yes: bool) -> None:
    if not yes and not click.confirm(question):
        raise click.ClickException("Nothing was deleted.")


@command("delete-program")
@click.argument("loyalty_id", type=ID)
@click.option("--force", is_flag=True, help="Delete it even if codes of it were given out.")
@yes_option
def delete_program(loyalty_id: int, force: bool, yes: bool) -> None:
    """Delete a loyalty program and its codes."""
    program = get_program(promo_session(), loyalty_id)
    confirm(f"Delete program {loyalty_id} ({program.name!r}) and all its codes?", yes)
    deleted = inventory.delete_program(promo_session(), loyalty_id, force)
    promo_session().commit()
    click.echo(
        f"Deleted program {loyalty_id}: {deleted['codes']} codes, "
        f"{deleted['attachments']} attachments."
    )


@command("delete-database")
@click.argument("db_id", type=ID)
@yes_option
def delete_database(db_id: int, yes: bool) -> None:
    """Delete a database with its profiles and their attachments."""
    database = get_database(promo_session(), db_id)
    confirm(f"Delete database {db_id} ({database.name!r}) and all its profiles?", yes)
    deleted = inventory.delete_database(promo_session(), db_id)
    promo_session().commit()
    click.echo(
        f"Deleted database {db_id}: {deleted['profiles']} profiles, "
        f"{deleted['attachments']} attachments."
    )
    for name in deleted["revoked_tokens"]:
        click.echo(f"Revoked token {name!r}: it was limited to this database alone.")


@command("delete-admin")
@click.argument("name")
@yes_option
def delete_admin(name: str, yes: bool) -> None:
    """Delete an admin user of the page."""
    confirm(f"Delete admin {name!r}?", yes)
    inventory.delete_admin(promo_session(), name)
    promo_session().commit()
    click.echo(f"Deleted admin {name!r}.")


@command("rename-program")
@click.argument("loyalty_id", type=ID)
@click.argument("name")
def rename_program(loyalty_id: int, name: str) -> None:
    """Give a loyalty program a new name."""
    program = inventory.rename_program(promo_session(), loyalty_id, name)
    promo_session().commit()
    click.echo(f"Program {loyalty_id} is now {program.name!r}.")


@command("set-expiry")
@click.argument("loyalty_id", type=ID)
@click.argument("expire_date")
def set_expiry(loyalty_id: int, expire_date: str) -> None:
    """Set the expiry of every code of a program: YYYY-MM-DD (through that day, UTC), an
    RFC 3339 time, or `never`."""
    if expire_date.strip().lower() == "never":
        moment = None
    else:
        try:
            moment = parse_expire_date(expire_date)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
    changed = inventory.set_expiry(promo_session(), loyalty_id, moment)
    promo_session().commit()
    when = "never" if moment is None else f"at {rfc3339(moment)}"
    click.echo(f"{changed} codes of program {loyalty_id} now expire {when}.")
