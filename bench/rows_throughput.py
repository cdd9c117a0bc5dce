"""bench/run.py's `throughput` rows: attach from the pool under gunicorn, loaded by wrk,
against a bare Flask view, and the floor view beside them."""

from __future__ import annotations

import argparse

from common import Row, Shop, make_shop, sqlite_url
from servers import gunicorn, wrk
from sqlalchemy import func, select

from promo_app import create_app
from promo_app.models import PromoCode


def bench_throughput(args: argparse.Namespace) -> list[Row]:
    """Attach from the pool under gunicorn (2 workers) against a minimal view that runs the
    same SQL on raw sqlite3 (bench/baselines/floor_app.py, issue 18's row), and both against
    a bare Flask view."""
    rounds, seconds = args.rounds, args.seconds
    shop = make_shop(sqlite_url("throughput.db"), free_codes=args.pool)
    floor_shop = make_shop(sqlite_url("throughput-floor.db"), free_codes=args.pool)
    totals = {name: [0, 0.0, 0] for name in ("promo", "floor", "bare")}
    with (
        gunicorn("wsgi:app", {"DATABASE_URL": shop.url}) as promo_port,
        gunicorn("bench.baselines.floor_app:app", {"DATABASE_URL": floor_shop.url}) as floor_port,
        gunicorn("bench.baselines.bare_app:app", {}) as bare_port,
    ):
        servers = (
            ("promo", promo_port, shop.attach_body()),
            ("floor", floor_port, floor_shop.attach_body()),
            ("bare", bare_port, shop.attach_body()),
        )
        for _name, port, body in servers:
            wrk(port, body, 1, args.connections)  # warm up
        for _ in range(rounds):
            for name, port, body in servers:
                result = wrk(port, body, seconds, args.connections)
                totals[name][0] += result["requests"]
                totals[name][1] += seconds
                totals[name][2] += result["non_2xx"]
    rps = {name: requests / elapsed for name, (requests, elapsed, _bad) in totals.items()}
    drawn = args.pool - count_free(shop)
    for name in ("promo", "floor"):
        assert totals[name][2] == 0, f"{totals[name][2]} {name} attach answers were not 200"
    assert drawn >= totals["promo"][0], "fewer codes left the pool than attach calls succeeded"
    server = f"gunicorn -w 2, wrk -c {args.connections}, {rounds}x{seconds:g}s alternating"
    return [
        Row(
            f"attach from the pool, req/s ({server})",
            f"{rps['promo']:.0f} req/s",
            f"{rps['floor']:.0f} req/s (the same SQL in a minimal view on raw sqlite3)",
            rps["promo"] / rps["floor"],
            ">= 0.9",
            f"{totals['promo'][0]} codes drawn, none twice (unique index), no non-2xx; "
            f"{rps['promo'] / rps['bare']:.2f} of the bare Flask view ({rps['bare']:.0f} req/s)",
        ),
        Row(
            f"(scale) the floor view: the same SQL on raw sqlite3, req/s ({server})",
            f"{rps['floor']:.0f} req/s",
            f"{rps['bare']:.0f} req/s (bare Flask view)",
            rps["floor"] / rps["bare"],
            "none",
            "bench/baselines/floor_app.py: token, profile, draw, attachment and history event "
            "in one transaction, none of the service's checks",
        ),
    ]


def count_free(shop: Shop) -> int:
    app = create_app({"SQLALCHEMY_DATABASE_URI": shop.url, "SECRET_KEY": "bench"})
    with app.app_context():
        promo = app.extensions["promo"]
        free = promo.db.session.scalar(
            select(func.count())
            .select_from(PromoCode)
            .where(PromoCode.loyalty_id == shop.loyalty_id, PromoCode.free)
        )
        promo.db.session.close()
        promo.engine.dispose()
    return free or 0
