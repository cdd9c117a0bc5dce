"""bench/run.py's `import` rows: promo import-codes against plain sqlite3, and the page's
upload (bench/page.py)."""

from __future__ import annotations

import argparse
import statistics
import sys

from common import Row, codes_file, count_codes, import_command, make_shop, sqlite_url
from rows_page import page_row
from servers import run_measured


def bench_import(args: argparse.Namespace) -> list[Row]:
    """`promo import-codes` against plain sqlite3 executemany of the same rows, each run
    `args.import_runs` times into new databases, alternating; the medians are compared
    (plain sqlite3's own time moves by a fifth from one run to the next here)."""
    path = codes_file(args.codes)
    plain_times, promo_times = [], []
    plain_rss = promo_rss = 0
    for _ in range(args.import_runs):
        plain = make_shop(sqlite_url("import-plain.db"), free_codes=0)
        promo = make_shop(sqlite_url("import-promo.db"), free_codes=0)
        plain_path = plain.url.removeprefix("sqlite:///")
        plain_import = [
            "bench/baselines/plain_import.py",
            plain_path,
            str(path),
            str(plain.import_loyalty_id),
        ]
        seconds, rss = run_measured([sys.executable, *plain_import])
        plain_times.append(seconds)
        plain_rss = max(plain_rss, rss)
        seconds, rss = run_measured(import_command(promo, path), {"DATABASE_URL": promo.url})
        promo_times.append(seconds)
        promo_rss = max(promo_rss, rss)
        for shop in (plain, promo):
            imported = count_codes(shop.url, shop.import_loyalty_id)
            assert imported == args.codes, f"{imported} codes imported, not {args.codes}"
    plain_time, promo_time = statistics.median(plain_times), statistics.median(promo_times)
    runs = f"median of {args.import_runs} runs each, alternating" if args.import_runs > 1 else ""
    rows = [
        Row(
            f"import {args.codes:,} codes, promo import-codes (rows/s)",
            f"{args.codes / promo_time:,.0f} rows/s ({promo_time:.1f} s, "
            f"peak {promo_rss / 1024:.0f} MiB)",
            f"{args.codes / plain_time:,.0f} rows/s ({plain_time:.1f} s, "
            f"peak {plain_rss / 1024:.0f} MiB) plain sqlite3",
            plain_time / promo_time,
            ">= 0.5",
            "; ".join(
                filter(
                    None,
                    [
                        runs,
                        "same table, indexes and pragmas",
                        "the CLI also reads, checks and reports each line",
                    ],
                )
            ),
        )
    ]
    rows.append(page_row(args, "upload"))
    return rows
