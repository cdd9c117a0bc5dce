"""What the attach's event costs SQLite, in plain sqlite3, for each layout of the history's
indexes: a draw (take + attachment + commit) with and without its event.

    .venv/bin/python bench/event_cost.py [--events 1000000] [--draws 2000] [--rounds 6]

The shop is made by this checkout's code (its schema, triggers and indexes), its pool of
random codes as a generation makes them, and the history filled with `--events` earlier
events of those codes; then one copy of the file per layout. Each round runs `--draws`
draws on each copy with the event and as many without, the order reversed every other
round, and prints microseconds per draw; at the end the medians and the event's cost.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import OUT, make_shop, sqlite_url

# Each layout: the statements that turn the head's indexes into it.
LAYOUTS = {
    "0011": [
        "DROP INDEX IF EXISTS ix_promo_event_program",
        "DROP INDEX IF EXISTS ix_promo_event_code",
        "CREATE INDEX ix_promo_event_program ON promo_event (loyalty_id, id)",
        "CREATE INDEX ix_promo_event_code ON promo_event (loyalty_id, code)",
    ],
    "head": [],
    # What one index fewer, and none, would save (each leaves a read of the page a scan).
    "one": ["DROP INDEX IF EXISTS ix_promo_event_program"],
    "none": [
        "DROP INDEX IF EXISTS ix_promo_event_program",
        "DROP INDEX IF EXISTS ix_promo_event_code",
    ],
}
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

TAKE = (
    "UPDATE promo_code SET free = 0 WHERE id = (SELECT id FROM promo_code"
    " WHERE loyalty_id BETWEEN ? AND ? AND free = 1 AND lapsed = 0"
    " ORDER BY loyalty_id, id LIMIT 1) AND free = 1 RETURNING id, code"
)
ATTACH = (
    "INSERT INTO promo_attachment (code_id, profile_pk, personal, attached) VALUES (?, ?, 1, ?)"
)
EVENT = (
    "INSERT INTO promo_event (at, kind, actor, db_id, loyalty_id, code, profile_id)"
    " VALUES (?, 'attached', ?, ?, ?, ?, ?)"
)


def random_codes(count: int, rng: random.Random) -> list[str]:
    codes: set[str] = set()
    while len(codes) < count:
        codes.add("".join(rng.choices(ALPHABET, k=4)) + "-" + "".join(rng.choices(ALPHABET, k=4)))
    return list(codes)


def make_file(events: int, pool: int) -> tuple[Path, dict]:
    url = sqlite_url("event-cost.db")
    shop = make_shop(url, 0)
    path = Path(url.removeprefix("sqlite:///"))
    rng = random.Random(15)
    codes = random_codes(events + pool, rng)
    db = sqlite3.connect(path)
    with db:
        db.executemany(
            "INSERT INTO promo_code (loyalty_id, code, universal, free, lapsed, created)"
            " VALUES (?, ?, 0, 1, 0, '2026-12-01 00:00:00')",
            [(shop.loyalty_id, code) for code in codes],
        )
        profile_pk = db.execute("SELECT id FROM promo_profile").fetchone()[0]
        db.executemany(
            "INSERT INTO promo_event (at, kind, actor, db_id, loyalty_id, code, profile_id)"
            " VALUES ('2026-12-01 00:00:00', 'attached', 'bench', ?, ?, ?, ?)",
            [
                (shop.db_id, shop.loyalty_id, code, shop.profile_id)
                for code in rng.sample(codes, events)
            ],
        )
    db.execute("PRAGMA journal_mode = DELETE")  # the whole file in one, for the copies
    db.close()
    return path, {
        "loyalty_id": shop.loyalty_id,
        "db_id": shop.db_id,
        "profile_pk": profile_pk,
        "profile_id": shop.profile_id,
    }


def draws(db: sqlite3.Connection, shop: dict, count: int, event: bool) -> float:
    """Run `count` draws, each its own transaction; return the process's CPU microseconds per
    draw (SQLite works in this process; a shared machine's other work moves its wall clock)."""
    program, at = shop["loyalty_id"], "2026-12-07 12:00:00.000000"
    started = time.process_time()
    for _ in range(count):
        db.execute("BEGIN IMMEDIATE")
        [(code_id, code)] = db.execute(TAKE, (program, program)).fetchall()
        db.execute(ATTACH, (code_id, shop["profile_pk"], at))
        if event:
            db.execute(EVENT, (at, "bench", shop["db_id"], program, code, shop["profile_id"]))
        db.execute("COMMIT")
    return (time.process_time() - started) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    pool = args.draws * args.rounds * 2 + 1000
    base, shop = make_file(args.events, pool)
    connections = {}
    for name, statements in LAYOUTS.items():
        path = OUT / f"event-cost-{name}.db"
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(base, path)
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        for statement in statements:
            db.execute(statement)
        connections[name] = db
    times: dict[str, list[float]] = {}
    cases = [(name, event) for name in connections for event in (True, False)]
    for number in range(args.rounds):
        row = []
        for name, event in cases if number % 2 == 0 else cases[::-1]:
            label = f"{name} {'with' if event else 'without'}"
            spent = draws(connections[name], shop, args.draws, event)
            times.setdefault(label, []).append(spent)
            row.append(f"{label} {spent:.1f}")
        print(f"round {number + 1}: " + ", ".join(row) + " µs/draw", flush=True)
    medians = {label: statistics.median(values) for label, values in times.items()}
    for name in connections:
        with_event, without = medians[f"{name} with"], medians[f"{name} without"]
        print(
            f"{name}: {with_event:.1f} µs with the event, {without:.1f} without: "
            f"the event {with_event - without:.1f} µs, ratio {without / with_event:.3f}"
        )


if __name__ == "__main__":
    main()
