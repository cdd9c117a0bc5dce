"""Ten million codes in one program (issue 18), on SQLite or PostgreSQL.

    .venv/bin/python bench/scale.py --db postgresql --codes 10000000
    .venv/bin/python bench/scale.py --db sqlite --codes 1000000 --scale-parts import attach

- import: `promo import-codes` of --codes codes (a real CLI process on a generated .txt) into a
  fresh database, its rate and peak memory; on PostgreSQL against `COPY promo_code (…) FROM
  STDIN` of the same rows into a fresh database of the same schema (indexes, triggers),
  alternating, --import-runs each (bench/baselines/copy_import.py). The memory is compared
  with the import of --small-import codes (flat: about the same peak).
- attach: p50 and p99 of sequential attach calls (gunicorn) drawing from the imported program
  of --codes codes against a program of 1,000, interleaved by 20, each pool topped up after
  each round (run.py's latency row).
- export: export_all's peak memory on the imported program against a program of
  --small-export codes (bench/export_all_memory.py's child; flat: about the same peak).

Databases are named bench_pgscale_…, SQLite files live in a temporary directory; both go at
the end. bench/run.py runs it as its `scale` row (`--scale-codes`, `--scale-dbs`; each of its
rows says its `db`).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from common import (  # also puts the checkout on the path, for promo_app
    ROOT,
    Row,
    Shop,
    codes_file,
    count_codes,
    import_command,
    make_shop,
)
from counts import postgres_database
from rows_latency import interleaved_attach, latency_rows
from servers import run_measured
from sqlalchemy import create_engine, text

from promo_app.times import utcnow

EXPORT_CHILD = str(ROOT / "bench" / "export_all_memory.py")


def load() -> str:
    return "load " + " ".join(f"{value:.1f}" for value in os.getloadavg())


@contextmanager
def databases(backend: str) -> Iterator:
    """A maker of fresh database URLs of `backend`, each dropped (or deleted) at the end."""
    with tempfile.TemporaryDirectory(prefix="pgscale-") as folder, ExitStack() as stack:

        def fresh(name: str) -> str:
            if backend == "sqlite":
                return f"sqlite:///{Path(folder) / name}.db"
            return stack.enter_context(postgres_database(f"pgscale_{name}"))

        yield fresh


def drop_database(url: str) -> None:
    """Empty a database made by `databases` early, to give its disk back."""
    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{url.removeprefix('sqlite:///')}{suffix}").unlink(missing_ok=True)
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def import_once(fresh, name: str, path: Path, codes: int) -> tuple[Shop, float, int]:
    shop = make_shop(fresh(name), free_codes=0)
    seconds, peak = run_measured(import_command(shop, path), {"DATABASE_URL": shop.url})
    imported = count_codes(shop.url, shop.import_loyalty_id)
    assert imported == codes, f"{imported} codes imported, not {codes}"
    return shop, seconds, peak


SQLITE_FILL = """
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :count)
INSERT INTO promo_code (loyalty_id, code, universal, free, created, lapsed)
SELECT :program, printf('F%010d', i), 0, 1, :created, 0 FROM n
"""
POSTGRES_FILL = """
INSERT INTO promo_code (loyalty_id, code, universal, free, created, lapsed)
SELECT :program, 'F' || lpad(i::text, 10, '0'), false, true, :created, false
FROM generate_series(0, :count - 1) AS i
"""


def filled(url: str, codes: int) -> Shop:
    """A shop whose import program has `codes` free codes, written by one INSERT … SELECT
    (minutes where `promo import-codes` takes tens of them on a busy machine)."""
    shop = make_shop(url, free_codes=0)
    sqlite = url.startswith("sqlite")
    created = utcnow()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(SQLITE_FILL if sqlite else POSTGRES_FILL),
            {
                "program": shop.import_loyalty_id,
                "count": codes,
                "created": created.isoformat(" ", "microseconds") if sqlite else created,
            },
        )
    engine.dispose()
    return shop


def copy_once(fresh, name: str, path: Path, codes: int) -> float:
    shop = make_shop(fresh(name), free_codes=0)
    command = [sys.executable, "bench/baselines/copy_import.py", shop.url, str(path)]
    seconds, _peak = run_measured([*command, str(shop.import_loyalty_id)])
    imported = count_codes(shop.url, shop.import_loyalty_id)
    assert imported == codes, f"{imported} codes copied, not {codes}"
    drop_database(shop.url)
    return seconds


def import_rows(args, fresh) -> tuple[list[Row], Shop]:
    """The import (and COPY on PostgreSQL); return the rows and the shop of the last import,
    kept for the attach and export parts."""
    path = codes_file(args.codes)
    _small_shop, _s, small_peak = import_once(
        fresh, "import_small", codes_file(args.small_import), args.small_import
    )
    drop_database(_small_shop.url)
    imports: list[float] = []
    copies: list[float] = []
    peak = 0
    shop = None
    loads = [load()]
    for run in range(args.import_runs):
        if shop is not None:
            drop_database(shop.url)
        if args.db == "postgresql":
            copies.append(copy_once(fresh, f"copy{run}", path, args.codes))
            print(f"  COPY {args.codes:,}: {copies[-1]:.1f} s ({load()})", flush=True)
        shop, seconds, run_peak = import_once(fresh, f"import{run}", path, args.codes)
        imports.append(seconds)
        peak = max(peak, run_peak)
        print(
            f"  import {args.codes:,}: {seconds:.1f} s, peak {run_peak / 1024:.0f} MiB ({load()})",
            flush=True,
        )
        loads.append(load())
    seconds = statistics.median(imports)
    runs = f"median of {args.import_runs}" if args.import_runs > 1 else "one run"
    measured = f"{args.codes / seconds:,.0f} rows/s ({seconds:.1f} s), peak {peak / 1024:.0f} MiB"
    rows = []
    if args.db == "postgresql":
        copy = statistics.median(copies)
        rows.append(
            Row(
                f"import {args.codes:,} codes, promo import-codes vs COPY, postgresql",
                measured,
                f"{args.codes / copy:,.0f} rows/s ({copy:.1f} s) COPY FROM STDIN",
                copy / seconds,
                ">= 0.5",
                f"{runs} each, alternating, fresh databases, same indexes and triggers; "
                f"{', '.join(loads)}",
            )
        )
    rows.append(
        Row(
            f"import-codes peak memory, {args.codes:,} vs {args.small_import:,} codes, {args.db}",
            f"{peak / 1024:.0f} MiB",
            f"{small_peak / 1024:.0f} MiB",
            peak / small_peak,
            "<= 1.2",
            f"{args.codes / seconds:,.0f} rows/s; {runs}; {loads[-1]}",
        )
    )
    return rows, shop


def attach_rows(args, fresh, big: Shop) -> list[Row]:
    # Attach draws from the imported program: its codes are free personal codes.
    shops = {
        "big": dataclasses.replace(big, loyalty_id=big.import_loyalty_id),
        "small": make_shop(fresh("attach_small"), free_codes=1000),
    }
    if args.db == "postgresql":  # as autovacuum would after such an import
        engine = create_engine(big.url)
        with engine.begin() as connection:
            connection.execute(text("ANALYZE promo_code"))
        engine.dispose()
    before = load()
    samples = interleaved_attach(shops, args.latency_rounds)
    note = (
        f"{len(samples['big'])} sequential calls each (gunicorn -w 2), interleaved by 20; "
        f"{before} before, {load()} after"
    )
    return latency_rows(samples, f"program of {args.codes:,} codes vs 1,000, {args.db}", note)


def export_peak(shop: Shop, loyalty_id: int, fmt: str) -> tuple[int, float, int]:
    """Export a program in a child process: its highest RSS (KiB), seconds and bytes."""
    result = subprocess.run(
        [sys.executable, EXPORT_CHILD, "--child", shop.url, shop.token, str(loyalty_id), fmt],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    received, seconds, _base, _peak, _start, highest = result.stdout.split()
    return int(highest), float(seconds), int(received)


def export_rows(args, fresh, big: Shop) -> list[Row]:
    small = make_shop(fresh("export_small"), free_codes=args.small_export)
    rows = []
    for fmt in args.formats:
        before = load()
        small_peak, small_seconds, _ = export_peak(small, small.loyalty_id, fmt)
        peak, seconds, sent = export_peak(big, big.import_loyalty_id, fmt)
        rows.append(
            Row(
                f"export_all {fmt} peak memory, {args.codes:,} vs {args.small_export:,} codes, "
                f"{args.db}",
                f"{peak / 1024:.0f} MiB ({seconds:.0f} s, {sent / 1e6:,.0f} MB)",
                f"{small_peak / 1024:.0f} MiB ({small_seconds:.1f} s)",
                peak / small_peak,
                "<= 1.2",
                f"test client, read chunk by chunk; {before} before, {load()} after",
            )
        )
    return rows


def show(rows: list[Row]) -> list[Row]:
    """Print rows as they are measured (a run at ten million codes takes long)."""
    for row in rows:
        print(
            f"{row.what}\n    {row.measured} vs {row.baseline}: ratio {row.ratio:.2f} "
            f"(target {row.target}, {row.verdict})  {row.note}",
            flush=True,
        )
    return rows


def run_scale(args) -> list[Row]:
    rows: list[Row] = []
    with databases(args.db) as fresh:
        if "import" in args.scale_parts:
            import_part, shop = import_rows(args, fresh)
            rows += show(import_part)
        else:  # a program of --codes free codes for the other parts, written in one statement
            shop = filled(fresh("filled"), args.codes)
        if "attach" in args.scale_parts:
            rows += show(attach_rows(args, fresh, shop))
        if "export" in args.scale_parts:
            rows += show(export_rows(args, fresh, shop))
    for row in rows:
        row.db = args.db
    return rows


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scale-parts", nargs="+", default=["import", "attach", "export"], help="scale.py's"
    )
    parser.add_argument("--small-import", type=int, default=100_000)
    parser.add_argument("--small-export", type=int, default=100_000)
    parser.add_argument("--formats", nargs="+", default=["json"], choices=["json", "xml"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], required=True)
    parser.add_argument("--codes", type=int, default=10_000_000)
    parser.add_argument("--import-runs", type=int, default=1)
    parser.add_argument("--latency-rounds", type=int, default=150)
    add_options(parser)
    args = parser.parse_args()
    (ROOT / "bench" / "out").mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    print(f"{load()} at the start", flush=True)
    run_scale(args)
    print(f"{load()} at the end, {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
