"""Reading files of codes with a bound on the line: a line too long is reported, not held."""

from __future__ import annotations

import io
import tracemalloc

import pytest

from promo_app.importing.files import (
    CHUNK,
    MAX_CSV_LINE_BYTES,
    MAX_TXT_LINE_BYTES,
    read_code_file,
)

pytestmark = pytest.mark.db_independent


def lines_read(content: bytes, filename: str = "codes.txt") -> list[tuple[int, str, bool]]:
    """(line, code, whether it was refused as too long) of each code read."""
    return [
        (item.line, item.raw, item.problem is not None and "longer than" in item.problem)
        for item in read_code_file(io.BytesIO(content), filename)
    ]


@pytest.mark.parametrize(
    ("size", "too_long"),
    [
        (MAX_TXT_LINE_BYTES - 1, False),  # with its line end: exactly the bound
        (MAX_TXT_LINE_BYTES, True),
        (CHUNK - 3, True),  # ends just before a chunk's end
        (CHUNK + 5, True),  # runs over into the next chunk
        (3 * CHUNK, True),  # its line end is the first byte of a chunk
    ],
)
def test_a_line_over_the_bound_is_reported_by_its_number(size, too_long):
    content = b"FIRST\n" + b"x" * size + b"\nLAST"
    read = lines_read(content)
    assert [(line, long) for line, _code, long in read] == [(1, False), (2, too_long), (3, False)]
    assert (read[0][1], read[2][1]) == ("FIRST", "LAST")
    if too_long:
        assert read[1][1] == "x" * 40 + "…"  # its first characters, to find it by


def test_codes_across_chunk_boundaries_are_read_whole():
    codes = [f"CODE-{n:07d}" for n in range(20_000)]  # some 260 KB: several chunks
    content = ("\ufeff" + "\r\n".join(codes) + "\r\n").encode()
    assert [code for _line, code, _long in lines_read(content)] == codes


def test_a_file_that_is_one_long_line_is_one_line_too_long():
    assert lines_read(b"y" * (5 * CHUNK)) == [(1, "y" * 40 + "…", True)]


def test_a_csv_line_too_long_is_reported_and_the_rest_read():
    content = (
        b"code,note\nA-1,x\n" + b"B," + b"n" * MAX_CSV_LINE_BYTES + b'\nC-1,"quoted\nnote"\nD-1,z\n'
    )
    assert lines_read(content, "codes.csv") == [
        (2, "A-1", False),
        (3, "B,nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn…", True),
        (5, "C-1", False),  # a CSV row is numbered by its last line
        (6, "D-1", False),
    ]


def test_a_20_mb_line_is_not_held_in_memory():
    content = io.BytesIO(b"A\n" + b"x" * (20 * 2**20) + b"\nB\n")
    tracemalloc.start()
    try:
        read = [(item.line, item.problem is None) for item in read_code_file(content, "c.txt")]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert read == [(1, True), (2, False), (3, True)]
    assert peak < 2**20  # a few chunks; the whole line would be 20 MiB and more
