"""Run every benchmark of the promo code service and print a table of ratios.

Each figure is measured side by side with its baseline in one run on the same machine, so
that a noisy machine moves both and the ratio keeps its meaning. Usage:

    .venv/bin/python bench/run.py            # everything, 1,000,000-code sizes
    .venv/bin/python bench/run.py --quick    # smaller sizes, for a try-out
    .venv/bin/python bench/run.py --only throughput latency
    .venv/bin/python bench/run.py --only postgresql      # the rows that run on PostgreSQL
    .venv/bin/python bench/run.py --only counts --codes 10000000   # the counts at 10^7
    .venv/bin/python bench/run.py --only scale --scale-dbs postgresql   # 10^7 codes, issue 18

--only takes names of rows, and databases (sqlite, postgresql): a database selects every row
that runs on it, and a row that runs on both runs on the named one only.

Scratch databases and files go to bench/out/ (ignored by git), results to
bench/out/results.json as well as the screen.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import counts  # bench/counts.py: the counts row and its own options

# make_shop is re-exported: bench/compare.py makes its shop in another checkout with `from run
# import make_shop`, and a checkout older than bench/common.py has make_shop in run.py alone.
from common import (
    OUT,
    Row,
    machine,
    make_shop,  # noqa: F401
    table,
)
from rows_busy import bench_busy
from rows_import import bench_import
from rows_latency import bench_latency
from rows_page import bench_page
from rows_throughput import bench_throughput

# The benchmarks ------------------------------------------------------------------------


def bench_counts(args: argparse.Namespace) -> list[Row]:
    """The overview and a program's page at --codes codes vs 1,000 (SQLite, PostgreSQL), and
    attach req/s on PostgreSQL with and without the counting triggers (bench/counts.py)."""
    args = argparse.Namespace(**vars(args))
    args.backends = [backend for backend in args.backends if backend in args.databases]
    if "postgresql" not in args.databases:  # the attach part runs on PostgreSQL
        args.parts = [part for part in args.parts if part != "attach"]
    return counts.run_counts(args)


def bench_scale(args: argparse.Namespace) -> list[Row]:
    """Import, attach and export_all at --scale-codes codes in one program, on each of
    --scale-dbs that --only selects (bench/scale.py); each row's `db` says which."""
    import scale  # bench/scale.py

    rows: list[Row] = []
    for db in (db for db in args.scale_dbs if db in args.databases):
        options = {"db": db, "codes": args.scale_codes, "import_runs": args.scale_import_runs}
        rows += scale.run_scale(argparse.Namespace(**{**vars(args), **options}))
    return rows


def bench_module_rows(module: str) -> Callable[[argparse.Namespace], list[Row]]:
    """The rows of a benchmark of its own module (bench/`module`.py), which has `rows(args)`."""

    def measure(args: argparse.Namespace) -> list[Row]:
        import importlib

        return importlib.import_module(module).rows(args)

    return measure


@dataclass(frozen=True)
class Bench:
    """A benchmark of the table: what measures its rows, the databases it runs on (`--only
    postgresql` selects by them) and whether it needs wrk."""

    measure: Callable[[argparse.Namespace], list[Row]]
    databases: tuple[str, ...]
    wrk: bool = False


DATABASES = ("sqlite", "postgresql")
BENCHMARKS = {
    "throughput": Bench(bench_throughput, ("sqlite",), wrk=True),
    "latency": Bench(bench_latency, ("sqlite",)),
    "import": Bench(bench_import, ("sqlite",)),
    "busy": Bench(bench_busy, ("sqlite",)),
    "page": Bench(bench_page, ("sqlite",)),
    "counts": Bench(bench_counts, ("sqlite", "postgresql"), wrk=True),
    "round-trips": Bench(bench_module_rows("round_trips"), ("postgresql",)),
    "latency-pg": Bench(bench_module_rows("latency_pg"), ("postgresql",), wrk=True),
    "contention": Bench(bench_module_rows("contention_pg"), ("postgresql",), wrk=True),
    "scale": Bench(bench_scale, ("sqlite", "postgresql")),
}


def selected(only: list[str]) -> tuple[list[str], tuple[str, ...]]:
    """The benchmarks `--only` names, by name or by database, in the order named; and the
    databases the rows are to run on (those named, or all)."""
    databases = tuple(name for name in DATABASES if name in only) or DATABASES
    names: list[str] = []
    for item in only:
        names += [
            name
            for name, bench in BENCHMARKS.items()
            if name == item or (item in DATABASES and item in bench.databases)
        ]
    return list(dict.fromkeys(names)), databases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        nargs="+",
        choices=[*BENCHMARKS, *DATABASES],
        default=list(BENCHMARKS),
        help="rows by name, or every row of a database (sqlite, postgresql)",
    )
    parser.add_argument("--quick", action="store_true", help="100,000 codes, shorter runs")
    parser.add_argument("--codes", type=int, default=1_000_000, help="the large size")
    parser.add_argument("--pool", type=int, default=100_000, help="free codes for load runs")
    parser.add_argument("--seconds", type=float, default=5, help="one throughput round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating throughput rounds")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections")
    parser.add_argument(
        "--import-runs", type=int, default=3, help="runs of each import row and its baseline"
    )
    parser.add_argument(
        "--latency-rounds", type=int, default=150, help="rounds of 20 calls for the latency rows"
    )
    counts.add_options(parser)
    import scale  # bench/scale.py: its own options

    scale.add_options(parser)
    parser.add_argument("--scale-codes", type=int, default=10_000_000, help="codes (scale)")
    parser.add_argument("--scale-dbs", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--scale-import-runs", type=int, default=1, help="runs (scale)")
    args = parser.parse_args()
    if args.quick:
        args.codes, args.pool, args.seconds, args.rounds = 100_000, 20_000, 2, 2
        args.latency_rounds, args.import_runs = 40, 1
        args.scale_codes, args.small_import, args.small_export = 100_000, 10_000, 10_000
    args.only, args.databases = selected(args.only)
    needing_wrk = [name for name in args.only if BENCHMARKS[name].wrk]
    if shutil.which("wrk") is None and needing_wrk:
        sys.exit(f"The {', '.join(needing_wrk)} rows need wrk (apt-get install wrk).")
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"Machine: {machine()}", flush=True)
    rows: list[Row] = []
    for name in args.only:
        started = time.perf_counter()
        print(f"Running {name} ...", flush=True)
        rows.extend(BENCHMARKS[name].measure(args))
        print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)
    print()
    print(table(rows))
    record = {
        "machine": machine(),
        "command": " ".join(sys.argv),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "rows": [{**asdict(row), "verdict": row.verdict} for row in rows],
    }
    (OUT / "results.json").write_text(json.dumps(record, indent=2))
    if any(row.verdict == "MISSED" for row in rows):
        print("\nSome targets were missed (see the verdict column).")


if __name__ == "__main__":
    main()
