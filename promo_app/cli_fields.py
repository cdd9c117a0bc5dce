"""`flask promo add-field / remove-field`: a custom field for a database that has profiles."""

from __future__ import annotations

import click

from .cli import ID, command
from .cli_inventory import confirm, yes_option
from .profiles.databases import FieldInUse, add_field, get_database, remove_field
from .state import promo_session


@command("add-field")
@click.argument("db_id", type=ID)
@click.argument("name")
def add_field_command(db_id: int, name: str) -> None:
    """Add a custom profile field to a database; imports and attach can match by it at once."""
    field = add_field(promo_session(), db_id, name)
    promo_session().commit()
    click.echo(f"Database {db_id} has a new custom field {field.name!r}.")


@command("remove-field")
@click.argument("db_id", type=ID)
@click.argument("name")
@click.option("--force", is_flag=True, help="Remove it even if profiles hold values of it.")
@yes_option
def remove_field_command(db_id: int, name: str, force: bool, yes: bool) -> None:
    """Remove a custom profile field of a database (refused while profiles hold values of it,
    unless --force, which deletes those values too)."""
    database = get_database(promo_session(), db_id)
    confirm(f"Remove custom field {name!r} of database {db_id} ({database.name!r})?", yes)
    try:
        removed = remove_field(promo_session(), db_id, name, force)
    except FieldInUse as error:
        raise click.ClickException(f"{error} Give --force to remove them too.") from None
    promo_session().commit()
    values = f" and {removed} values of it" if removed else ""
    click.echo(f"Removed custom field {name!r}{values} from database {db_id}.")
