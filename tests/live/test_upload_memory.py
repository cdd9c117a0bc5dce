"""An upload through the page costs the server the same memory for 300,000 codes as for 30,000.

The full-size figures (100,000 vs 1,000,000 codes) come from `bench/upload_memory.py`;
this test runs the same measurement at a tenth of the size to keep the suite fast.
"""

from __future__ import annotations

import pytest

from bench.upload_memory import run

# A SQLite file of its own, whatever --db says: run once, in the SQLite pass.
pytestmark = [pytest.mark.slow, pytest.mark.db_independent]

SMALL, LARGE = 30_000, 300_000


def test_upload_memory_stays_flat_as_the_file_grows():
    small, large = run([SMALL, LARGE])
    for measure in (small, large):
        print(
            f"{measure.codes:,} codes ({measure.file_bytes / 2**20:.1f} MiB): "
            f"{measure.seconds:.1f} s, resident before {measure.baseline_kib / 1024:.1f} MiB, "
            f"peak {measure.peak_kib / 1024:.1f} MiB, growth {measure.growth_kib / 1024:.1f} MiB"
        )
    assert (small.inserted, large.inserted) == (SMALL, LARGE)
    # Ten times the codes (5 MiB more file, some 30 MiB more as Python strings) may not
    # cost more than a few MiB of noise.
    assert large.growth_kib - small.growth_kib < 4 * 1024


def test_a_20_mb_line_is_reported_without_being_held():
    # The same codes with and without a line of 20 MB in their middle: the long line is
    # reported as invalid by its number and the rest imported, at no more memory.
    plain, long = run([SMALL])[0], run([SMALL], long_line=20 * 2**20)[0]
    print(
        f"growth without the long line {plain.growth_kib / 1024:.1f} MiB, "
        f"with it {long.growth_kib / 1024:.1f} MiB"
    )
    assert (long.inserted, long.invalid) == (SMALL, 1)
    assert long.growth_kib - plain.growth_kib < 4 * 1024
