"""Reading files of promo codes: `.txt` with one code per line, or `.csv` with a `code` column.

Files are read as a stream, line by line, so their size does not matter. UTF-8 with or
without a byte order mark, CRLF or LF line ends; blank lines are skipped.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from typing import BinaryIO

from sqlalchemy.orm import Session

from ..errors import InvalidInput
from ..models import LoyaltyProgram
from ..times import parse_expire_date
from .batches import IMPORT_BATCH_SIZE, import_codes
from .report import ImportLine, ImportReport, UploadReport

CHUNK = 1 << 16


class CodeFileError(InvalidInput):
    """A file that cannot be read as codes at all; nothing of it is imported."""


def check_code_file(stream: BinaryIO) -> None:
    """Read the whole (seekable) file once: it must be UTF-8 text. Rewind it afterwards."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    while chunk := stream.read(CHUNK):
        if b"\0" in chunk:
            stream.seek(0)
            raise CodeFileError("This is a binary file, not a text file of codes.")
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError:
            stream.seek(0)
            raise CodeFileError(
                f"The file is not UTF-8 text (near line {line + _lines_before(chunk)}); "
                "save it as UTF-8 and upload it again."
            ) from None
        line += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        stream.seek(0)
        raise CodeFileError("The file ends in the middle of a UTF-8 character.") from None
    stream.seek(0)


def _lines_before(chunk: bytes) -> int:
    """Count the line ends before the first byte that is not UTF-8 in `chunk`."""
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError as error:
        return chunk[: error.start].count(b"\n")
    return 0


def read_code_file(stream: BinaryIO, filename: str) -> Iterator[ImportLine]:
    """Yield the codes of a `.txt` or `.csv` file, each with its line number."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        if filename.lower().endswith(".csv"):
            yield from _read_csv(text)
        else:
            yield from _read_txt(text)
    finally:
        text.detach()  # the stream is the caller's to close, not the wrapper's


def _read_txt(text: io.TextIOWrapper) -> Iterator[ImportLine]:
    for number, line in enumerate(text, start=1):
        code = line.rstrip("\r\n")
        if code.strip():
            yield ImportLine(number, code)


def _read_csv(text: io.TextIOWrapper) -> Iterator[ImportLine]:
    reader = csv.reader(text)
    header = next(reader, None)
    if header is None:
        return
    columns = [name.strip().lower() for name in header]
    if "code" not in columns:
        raise CodeFileError("The CSV file has no 'code' column in its first line.")
    code_at = columns.index("code")
    expire_at = columns.index("expire_date") if "expire_date" in columns else None
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        number = reader.line_num
        if code_at >= len(row):
            yield ImportLine(number, "", problem="The line has no code column.")
            continue
        item = ImportLine(number, row[code_at])
        if expire_at is not None and expire_at < len(row) and row[expire_at].strip():
            try:
                item.expire_date = parse_expire_date(row[expire_at])
            except ValueError as error:
                item.problem = str(error)
        yield item


def import_code_file(
    session: Session,
    program: LoyaltyProgram,
    stream: BinaryIO,
    filename: str,
    *,
    batch_size: int = IMPORT_BATCH_SIZE,
    after_batch: Callable[[ImportReport], None] | None = None,
) -> UploadReport:
    """Import a `.txt` or `.csv` file of codes (a seekable binary stream) into `program`.

    The whole file is checked first (UTF-8, not binary): CodeFileError, raised before
    anything is written, says why not. A CSV that breaks later (a quote never closed)
    stops the import there; the report says so, and the caller rolls back the batch that
    was being read. `after_batch` runs after each batch (the page commits there).
    """
    check_code_file(stream)
    report = UploadReport(keep=100)
    try:
        import_codes(
            session,
            program,
            read_code_file(stream, filename),
            report=report,
            batch_size=batch_size,
            after_batch=after_batch,
        )
    except csv.Error as error:
        report.stopped = (
            f"Reading stopped: the CSV is malformed ({error}). Only the codes counted as "
            "inserted below were added; correct the file and upload it again (the codes "
            "added now will then be reported as duplicated)."
        )
    return report
