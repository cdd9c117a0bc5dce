"""`promo import-codes` at several batch sizes: rows/s against plain sqlite3, and how long
each batch holds SQLite's write lock.

    .venv/bin/python bench/import_batches.py [CODES] [BATCH_SIZE ...]   # 1,000,000; 500 ... 5000

For each size, in this order and side by side: bench/baselines/plain_import.py into a fresh
database, then the import-codes command (in a process of its own, run through Flask's
CLI runner so that it can time its batches) into another. Each batch's write lock is
taken at its first write (the savepoint before its INSERT) and let go by its COMMIT; the
table gives the time from that first write to the end of the INSERT (the lock is held at
least that long) and to the end of the COMMIT (at most that long: a COMMIT that fills the
WAL past 1,000 pages also copies it back into the database, after the lock is let go).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import OUT, ROOT, codes_file, count_codes, make_shop, sqlite_url
from servers import run_measured


def child(url: str, path: str, loyalty_id: str, batch_size: str) -> None:
    """Run import-codes in this process; print the batches' lock times as JSON."""
    from sqlalchemy import event

    from promo_app import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
        }
    )
    with app.app_context():
        engine = app.extensions["promo"].engine
    started: list[float] = []
    inserts: list[float] = []
    holds: list[float] = []

    def before(_connection, _cursor, statement, *_args) -> None:
        # The first write since the last commit: the write-lock listener has just said
        # BEGIN IMMEDIATE (it waited for nobody: nothing else writes here).
        writes = statement.lstrip()[:6].upper() not in ("SELECT", "PRAGMA")
        if writes and len(started) == len(holds):
            started.append(time.perf_counter())

    def after(_connection, _cursor, statement, *_args) -> None:
        if statement.startswith("INSERT") and len(started) > len(inserts):
            inserts.append(time.perf_counter() - started[-1])

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    do_commit = engine.dialect.do_commit

    def timed_commit(dbapi_connection) -> None:
        do_commit(dbapi_connection)
        if len(started) > len(holds):
            holds.append(time.perf_counter() - started[-1])

    engine.dialect.do_commit = timed_commit
    arguments = ["promo", "import-codes", path, "--loyalty-id", loyalty_id]
    result = app.test_cli_runner().invoke(args=[*arguments, "--batch-size", batch_size])
    if result.exit_code != 0:
        sys.exit(result.output)
    print(json.dumps({"inserts": inserts, "holds": holds}))


def milliseconds(values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return f"{statistics.median(values) * 1000:.1f} / {p99 * 1000:.1f} / {ordered[-1] * 1000:.0f}"


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    sizes = [int(size) for size in sys.argv[2:]] or [500, 1000, 2000, 5000]
    OUT.mkdir(parents=True, exist_ok=True)
    path = codes_file(count)
    lines = [
        "| batch size | import-codes rows/s | plain sqlite3 rows/s | ratio | batches "
        "| first write to end of INSERT, ms (p50 / p99 / max) "
        "| first write to end of COMMIT, ms (p50 / p99 / max) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for size in sizes:
        plain = make_shop(sqlite_url("batches-plain.db"), free_codes=0)
        promo = make_shop(sqlite_url("batches-promo.db"), free_codes=0)
        plain_time, _ = run_measured(
            [
                sys.executable,
                "bench/baselines/plain_import.py",
                plain.url.removeprefix("sqlite:///"),
                str(path),
                str(plain.import_loyalty_id),
            ]
        )
        started = time.perf_counter()
        completed = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                promo.url,
                str(path),
                str(promo.import_loyalty_id),
                str(size),
            ],
            cwd=ROOT,
            env={**os.environ, "SECRET_KEY": "bench"},
            capture_output=True,
            text=True,
            check=True,
        )
        promo_time = time.perf_counter() - started
        assert count_codes(promo.url, promo.import_loyalty_id) == count
        times = json.loads(completed.stdout.strip().splitlines()[-1])
        lines.append(
            f"| {size:,} | {count / promo_time:,.0f} ({promo_time:.1f} s) "
            f"| {count / plain_time:,.0f} ({plain_time:.1f} s) | {plain_time / promo_time:.2f} "
            f"| {len(times['holds'])} | {milliseconds(times['inserts'])} "
            f"| {milliseconds(times['holds'])} |"
        )
        print(lines[-1], flush=True)
    print()
    print("\n".join(lines))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(*sys.argv[2:6])
    else:
        main()
