"""Reading files of promo codes: `.txt` with one code per line, or `.csv` with a `code` column.

Files are read as a stream, line by line with a bound on the line's length, so their size
does not matter. UTF-8 with or without a byte order mark, CRLF or LF line ends; blank lines
are skipped.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from ..codes import MAX_CODE_LENGTH
from ..errors import InvalidInput
from ..times import parse_expire_date
from .report import ImportLine

CHUNK = 1 << 16

# The longest line read: a longer one is reported as too long by its number, never held.
# A code has at most MAX_CODE_LENGTH characters of at most 4 bytes in UTF-8, plus some
# room for spaces around it; a CSV line has other columns too.
MAX_TXT_LINE_BYTES = 4 * MAX_CODE_LENGTH + 1024
MAX_CSV_LINE_BYTES = 64 * 1024
# How much of a line too long the report shows.
SHOWN_BYTES = 40


class CodeFileError(InvalidInput):
    """A file that cannot be read as codes at all; nothing of it is imported."""


def check_code_file(stream: BinaryIO, copy_to: BinaryIO | None = None) -> None:
    """Read the whole (seekable) file once: it must be UTF-8 text. Rewind it afterwards.

    With `copy_to`, each chunk read is also written there (the page saves the upload so).
    """
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
        if copy_to is not None:
            copy_to.write(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        stream.seek(0)
        raise CodeFileError("The file ends in the middle of a UTF-8 character.") from None
    stream.seek(0)


def check_columns(stream: BinaryIO, filename: str) -> None:
    """Read a CSV file's first line: CodeFileError if it names no `code` column. Rewind it."""
    lines = read_code_file(stream, filename)
    try:
        next(lines, None)
    except csv.Error:
        pass  # a row that breaks the CSV: the import reports it, with what came before
    finally:
        lines.close()
        stream.seek(0)


def _lines_before(chunk: bytes) -> int:
    """Count the line ends before the first byte that is not UTF-8 in `chunk`."""
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError as error:
        return chunk[: error.start].count(b"\n")
    return 0


@dataclass(slots=True)
class LongLine:
    """A line longer than the reader's bound: only its first bytes were kept."""

    start: bytes

    def shown(self) -> str:
        return self.start.decode("utf-8", errors="ignore") + "…"


def bounded_lines(stream: BinaryIO, limit: int) -> Iterator[bytes | LongLine]:
    """Yield the lines of a binary stream, each with its line end, read a chunk at a time.

    A line of more than `limit` bytes is not held: its first bytes are kept and the rest
    passed over up to its line end, and a LongLine stands for it. Memory holds a chunk and
    one line of at most `limit` bytes, whatever the file (a 100 MB file with no line break).
    """
    pending = b""  # the start of a line that the next chunk continues
    long: LongLine | None = None  # the line being passed over, if it is too long
    while chunk := stream.read(CHUNK):
        pieces = chunk.split(b"\n")
        last = pieces.pop()
        for piece in pieces:
            if long is not None:
                yield long
                long = None
                continue
            line = pending + piece + b"\n" if pending else piece + b"\n"
            pending = b""
            yield line if len(line) <= limit else LongLine(line[:SHOWN_BYTES])
        if long is None:
            pending += last
            if len(pending) > limit:
                long, pending = LongLine(pending[:SHOWN_BYTES]), b""
    if long is not None:
        yield long
    elif pending:
        yield pending


def read_code_file(stream: BinaryIO, filename: str) -> Iterator[ImportLine]:
    """Yield the codes of a `.txt` or `.csv` file, each with its line number.

    The file is read with a bound on the line (`bounded_lines`): a longer line is
    reported as invalid by its number, and the rest of the file is read on.
    """
    if filename.lower().endswith(".csv"):
        yield from _read_csv(bounded_lines(stream, MAX_CSV_LINE_BYTES))
    else:
        yield from _read_txt(bounded_lines(stream, MAX_TXT_LINE_BYTES))


def _too_long(number: int, line: LongLine, limit: int) -> ImportLine:
    return ImportLine(
        number,
        line.shown(),
        problem=f"The line is longer than {limit:,} bytes, too long for a code; it was skipped.",
    )


def _read_txt(lines: Iterator[bytes | LongLine]) -> Iterator[ImportLine]:
    for number, line in enumerate(lines, start=1):
        if isinstance(line, LongLine):
            yield _too_long(number, line, MAX_TXT_LINE_BYTES)
            continue
        if number == 1 and line.startswith(codecs.BOM_UTF8):
            line = line[len(codecs.BOM_UTF8) :]
        code = line.decode("utf-8").rstrip("\r\n")
        if code.strip():
            yield ImportLine(number, code)


def _read_csv(lines: Iterator[bytes | LongLine]) -> Iterator[ImportLine]:
    too_long: list[ImportLine] = []

    def texts() -> Iterator[str]:
        """The lines as text for the CSV reader; a line too long is an empty one to it."""
        for number, line in enumerate(lines, start=1):
            if isinstance(line, LongLine):
                too_long.append(_too_long(number, line, MAX_CSV_LINE_BYTES))
                yield "\n"
                continue
            if number == 1 and line.startswith(codecs.BOM_UTF8):
                line = line[len(codecs.BOM_UTF8) :]
            yield line.decode("utf-8")

    reader = csv.reader(texts())
    header = next(reader, None)
    if header is None:
        return
    columns = [name.strip().lower() for name in header]
    if "code" not in columns:
        raise CodeFileError("The CSV file has no 'code' column in its first line.")
    code_at = columns.index("code")
    expire_at = columns.index("expire_date") if "expire_date" in columns else None
    for row in reader:
        yield from too_long
        too_long.clear()
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
    yield from too_long
