"""The plans and times of the history's reads at a million events, on SQLite and PostgreSQL:
the page's program and code histories, the filters of `promo events`, the pruning.

    .venv/bin/python bench/event_plans.py [--events 1000000] [--only sqlite]
        [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]

The shop is made by this checkout's code (its schema and indexes); its history holds
`--events` events: a tenth a profile's (no program, no code), a tenth a bulk change's (a
program, no code), a tenth attachments of one universal code, the rest attachments of
personal codes of a busy program, and a dormant program's five events at the start. On
PostgreSQL the database (named promo_events_plans) is analysed, then dropped.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import make_shop, sqlite_url
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url

from promo_app.events import prune_statement
from promo_app.history import EventFilter, batch_query, recent_query

BUSY, UNIVERSAL, DORMANT = 1, 2, 3
FILL = """
INSERT INTO promo_event (at, kind, actor, db_id, loyalty_id, code, profile_id)
SELECT at, kind, 'bench', 1, loyalty_id, code, profile_id FROM (
  SELECT {moment} AS at,
    CASE WHEN i % 10 = 0 THEN 'profile_updated' WHEN i % 10 = 1 THEN 'imported'
         ELSE 'attached' END AS kind,
    CASE WHEN i % 10 = 0 THEN NULL WHEN i % 10 = 2 THEN 2 ELSE 1 END AS loyalty_id,
    CASE WHEN i % 10 IN (0, 1) THEN NULL WHEN i % 10 = 2 THEN 'WELCOME'
         ELSE 'C-' || i END AS code,
    CASE WHEN i % 10 = 1 THEN NULL ELSE 'p' || (i % 5000) END AS profile_id
  FROM {numbers}
) AS made
"""
SQLITE_NUMBERS = (
    "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :events)"
    " SELECT i FROM n)"
)
SQLITE_MOMENT = "datetime('2026-01-01', '+' || (i / 20) || ' seconds')"
PG_NUMBERS = "generate_series(1, :events) AS n(i)"
PG_MOMENT = "timestamp '2026-01-01' + (i / 20) * interval '1 second'"

READS = {
    "program page, busy program": recent_query(EventFilter(loyalty_id=BUSY), 50),
    "program page, dormant program": recent_query(EventFilter(loyalty_id=DORMANT), 50),
    "code page, a personal code": recent_query(EventFilter(loyalty_id=BUSY, code="C-13"), 50),
    "code page, the universal code": recent_query(
        EventFilter(loyalty_id=UNIVERSAL, code="WELCOME"), 50
    ),
    "events --code (any program)": batch_query(EventFilter(code="C-13"), 0, 1000),
    "events --loyalty-id --code": batch_query(EventFilter(loyalty_id=BUSY, code="C-13"), 0, 1000),
    "events --loyalty-id (dormant)": batch_query(EventFilter(loyalty_id=DORMANT), 0, 1000),
    "events --profile-id": batch_query(EventFilter(profile_id="p-none"), 0, 1000),
    "events --since (the last day)": batch_query(EventFilter(since=datetime(2026, 1, 12)), 0, 1000),
}


def fill(connection: Connection, numbers: str, moment: str, events: int) -> None:
    connection.execute(text("DELETE FROM promo_event"))
    connection.execute(
        text(
            "INSERT INTO promo_event (at, kind, actor, loyalty_id)"
            " VALUES ('2025-12-31 00:00:00', 'imported', 'bench', 3)"
        )
    )
    for _ in range(4):
        connection.execute(
            text(
                "INSERT INTO promo_event (at, kind, actor, loyalty_id, code)"
                " VALUES ('2025-12-31 00:00:00', 'attached', 'bench', 3, 'OLD')"
            )
        )
    connection.execute(text(FILL.format(numbers=numbers, moment=moment)), {"events": events})


def show(connection: Connection, explain: str, analyse: bool) -> None:
    for name, query in READS.items():
        compiled = query.compile(dialect=connection.dialect)
        params = compiled.construct_params()
        if compiled.positional:
            params = tuple(params[key] for key in compiled.positiontup)
        started = time.perf_counter()
        connection.exec_driver_sql(str(compiled), params).all()
        spent = (time.perf_counter() - started) * 1000
        plan = connection.exec_driver_sql(f"{explain} {compiled}", params).all()
        print(f"\n{name}: {spent:.1f} ms")
        for row in plan:
            print("   ", row[-1])
    # The pruning's statement, planned only (it deletes).
    compiled = prune_statement(datetime(2026, 1, 1)).compile(dialect=connection.dialect)
    params = compiled.construct_params()
    if compiled.positional:
        params = tuple(params[key] for key in compiled.positiontup)
    plain = "EXPLAIN QUERY PLAN" if not analyse else "EXPLAIN (COSTS OFF)"
    print("\npruning (planned only):")
    for row in connection.exec_driver_sql(f"{plain} {compiled}", params).all():
        print("   ", row[-1])


def on_sqlite(events: int) -> None:
    url = sqlite_url("event-plans.db")
    make_shop(url, 0)
    engine = create_engine(url)
    with engine.begin() as connection:
        fill(connection, SQLITE_NUMBERS, SQLITE_MOMENT, events)
    print(f"== SQLite, {events:,} events (no ANALYZE, as the service runs)")
    with engine.connect() as connection:
        show(connection, "EXPLAIN QUERY PLAN", analyse=False)
    engine.dispose()


def on_postgresql(events: int, server_url: str) -> None:
    server = make_url(server_url)
    name = "promo_events_plans"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        make_shop(url, 0)
        engine = create_engine(url)
        with engine.begin() as connection:
            fill(connection, PG_NUMBERS, PG_MOMENT, events)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE promo_event"))
        print(f"\n== PostgreSQL, {events:,} events (analysed)")
        with engine.connect() as connection:
            show(connection, "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)", analyse=True)
        engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    if args.only != "postgresql":
        on_sqlite(args.events)
    if args.only != "sqlite":
        on_postgresql(args.events, args.url)


if __name__ == "__main__":
    main()
