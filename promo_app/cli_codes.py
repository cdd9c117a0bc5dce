"""`flask promo import-codes / generate-codes`: codes from a file, or made from a pattern."""

from __future__ import annotations

import os
import sys
from datetime import datetime

import click

from . import events
from .cli import ID, command
from .codes import get_program
from .db.binding import promo_connection
from .generating.patterns import ALPHABETS, DEFAULT_ALPHABET, MIN_BITS, Pattern
from .generating.writing import generate_codes
from .importing.batches import IMPORT_BATCH_SIZE, import_codes
from .importing.files import CodeFileError, check_code_file, read_code_file
from .importing.report import ImportReport
from .state import promo_session
from .times import parse_expire_date


@command("import-codes")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--loyalty-id", type=ID, required=True, help="The loyalty program.")
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
        written = _batch_events(events.IMPORTED, loyalty_id)
        with click.progressbar(length=size, label="Importing", file=sys.stderr) as bar:

            def commit(report: ImportReport) -> None:
                counts = {"inserted": report.inserted, "duplicated": report.duplicated}
                written.written({**counts, "invalid": report.invalid}, file=os.path.basename(path))
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


@command("generate-codes")
@click.option("--loyalty-id", type=ID, required=True, help="The loyalty program.")
@click.option("--count", type=click.IntRange(min=1), required=True, help="How many new codes.")
@click.option("--pattern", required=True, help="# a digit, @ a letter, * either: '****-****'.")
@click.option("--prefix", default="", help="Text before the pattern.")
@click.option("--suffix", default="", help="Text after the pattern.")
@click.option("--alphabet", type=click.Choice(list(ALPHABETS)), default=DEFAULT_ALPHABET)
@click.option("--expire-date", help="YYYY-MM-DD (through that day) or an RFC 3339 time.")
@click.option("--force", is_flag=True, help=f"Allow a pattern under {MIN_BITS} bits.")
def generate_codes_command(
    loyalty_id: int, count: int, expire_date: str | None, force: bool, **pattern: str
) -> None:
    """Generate new random codes into a program, none equal to one it has."""
    program = get_program(promo_session(), loyalty_id)
    expiry = parse_expiry_option(expire_date)
    shape = Pattern(pattern.pop("pattern"), **pattern)
    written = _batch_events(events.GENERATED, loyalty_id)

    def commit(report: ImportReport) -> None:
        written.written({"inserted": report.inserted}, pattern=shape.text)
        promo_session().commit()

    steps = generate_codes(
        promo_session(), program, shape, count, expire_date=expiry, force=force, after_batch=commit
    )
    report = None
    with click.progressbar(length=count, label="Generating", file=sys.stderr) as bar:
        for report in steps:
            bar.update(report.inserted - bar.pos)
    redrawn = (
        f"; {report.redrawn} drawn codes the program had were drawn again" if report.redrawn else ""
    )
    click.echo(f"Inserted {report.inserted} codes into loyalty program {loyalty_id}{redrawn}.")


def _batch_events(kind: str, loyalty_id: int) -> events.BatchEvents:
    return events.BatchEvents(
        lambda: promo_connection(promo_session()), kind, events.CLI, loyalty_id=loyalty_id
    )


def parse_expiry_option(text: str | None) -> datetime | None:
    try:
        return None if text is None else parse_expire_date(text)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--expire-date") from None
