"""Run every benchmark of the promo code service and print a table of ratios.

Each figure is measured side by side with its baseline in one run on the same machine, so
that a noisy machine moves both and the ratio keeps its meaning. Usage:

    .venv/bin/python bench/run.py            # everything, 1,000,000-code sizes
    .venv/bin/python bench/run.py --quick    # smaller sizes, for a try-out
    .venv/bin/python bench/run.py --only throughput latency
    .venv/bin/python bench/run.py --only counts --codes 10000000   # the counts at 10^7
    .venv/bin/python bench/run.py --only scale --scale-dbs postgresql   # 10^7 codes, issue 18

Scratch databases and files go to bench/out/ (ignored by git), results to
bench/out/results.json as well as the screen.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, create_engine, func, insert, select  # noqa: E402

from promo_app import create_app  # noqa: E402
from promo_app.models import Database, LoyaltyProgram, PromoCode  # noqa: E402
from promo_app.profiles import add_profile  # noqa: E402
from promo_app.times import utcnow  # noqa: E402
from promo_app.tokens import create_token  # noqa: E402

OUT = ROOT / "bench" / "out"
BIN = Path(sys.executable).parent
ATTACH_PATH = "/api/v1.1/promocodes/attach"
ROWS = ("throughput", "latency", "import", "busy", "page", "counts", "scale")
SERVERS: dict[int, subprocess.Popen] = {}  # port -> master process of each running gunicorn


@dataclass
class Row:
    """One line of the table: a measured figure against its baseline, and the target."""

    what: str
    measured: str
    baseline: str
    ratio: float | None
    target: str
    note: str = ""
    db: str = ""  # the database measured, where a row is of one ("sqlite", "postgresql")

    @property
    def verdict(self) -> str:
        if self.ratio is None or self.target == "none":
            return "n/a"
        bound = float(self.target.split()[-1])
        ok = self.ratio >= bound if self.target.startswith(">=") else self.ratio <= bound
        return "ok" if ok else "MISSED"


@dataclass
class Shop:
    url: str
    token: str
    db_id: int
    loyalty_id: int
    import_loyalty_id: int
    profile_id: str

    def attach_body(self) -> str:
        return json.dumps(
            {
                "token": self.token,
                "db_id": self.db_id,
                "loyalty_id": self.loyalty_id,
                "profile_id": self.profile_id,
            }
        )


# Setting up ----------------------------------------------------------------------------


def sqlite_url(name: str) -> str:
    path = OUT / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def make_shop(url: str, free_codes: int) -> Shop:
    """Create a database with one profile, a token, a pool of `free_codes` free personal
    codes and an empty program to import into."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        promo = app.extensions["promo"]
        promo.create_all()
        session = promo.db.session
        database = Database(name="Bench shop")
        pool = LoyaltyProgram(name="Pool", universal=False)
        target = LoyaltyProgram(name="Imported", universal=False)
        session.add_all([database, pool, target])
        session.flush()
        profile = add_profile(session, database, email="bench@example.com")
        token = create_token(session, "bench")
        session.flush()
        shop = Shop(url, token, database.id, pool.id, target.id, profile.profile_id)
        session.commit()
        for start in range(0, free_codes, 50_000):
            add_free_codes(promo.engine, shop, range(start, min(start + 50_000, free_codes)))
        promo.engine.dispose()
    return shop


def add_free_codes(engine: Engine, shop: Shop, numbers: range, prefix: str = "POOL") -> None:
    """Add free codes `{prefix}-{number}` to the shop's pool, in one transaction."""
    now = utcnow()
    rows = [
        {"loyalty_id": shop.loyalty_id, "code": f"{prefix}-{n:08d}", "created": now}
        for n in numbers
    ]
    with engine.begin() as connection:
        connection.execute(insert(PromoCode), rows)


def count_codes(url: str, loyalty_id: int) -> int:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        promo = app.extensions["promo"]
        count = promo.db.session.scalar(
            select(func.count()).select_from(PromoCode).where(PromoCode.loyalty_id == loyalty_id)
        )
        promo.db.session.close()
        promo.engine.dispose()
    return count or 0


def codes_file(count: int) -> Path:
    """A .txt of `count` distinct codes in random order, as a shop's export would be."""
    path = OUT / f"codes-{count}.txt"
    if not path.exists():
        rng = random.Random(5)
        with open(path, "w") as file:
            for n in range(count):
                file.write(f"{rng.getrandbits(40):010X}{n:07d}\n")
    return path


# Servers and clients -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(
    app_spec: str,
    env: dict[str, str],
    workers: int = 2,
    timeout: int = 30,
    checkout: Path = ROOT,
) -> Iterator[int]:
    """Serve `app_spec` of `checkout` with gunicorn (sync workers) on a free loopback port;
    its master process is `SERVERS[port]` while it runs."""
    port = free_port()
    log = open(OUT / f"gunicorn-{port}.log", "w")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [
            *(
                BIN / "gunicorn",
                "--config",
                str(Path(__file__).with_name("gunicorn_defaults.conf.py")),
            ),
            *("--workers", str(workers), "--bind", f"127.0.0.1:{port}"),
            *("--timeout", str(timeout), app_spec),
        ],
        cwd=checkout,
        env={**os.environ, "SECRET_KEY": "bench", **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start; see {log.name}") from None
                time.sleep(0.1)
        SERVERS[port] = server
        yield port
    finally:
        SERVERS.pop(port, None)
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def post(port: int, body: str) -> tuple[int, float]:
    """POST one attach; return its status and its latency in seconds."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", ATTACH_PATH, body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    return response.status, time.perf_counter() - started


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def wrk(
    port: int,
    body: str,
    seconds: float,
    connections: int,
    script: str = "attach.lua",
    env: dict[str, str] | None = None,
) -> dict[str, float]:
    """Load one server with wrk (`script` of bench/, `env` for it); return requests/s and the
    count of non-2xx answers."""
    command = [
        "wrk",
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{seconds:g}s",
        "--script",
        str(ROOT / "bench" / script),
        f"http://127.0.0.1:{port}{ATTACH_PATH}",
    ]
    output = subprocess.run(
        command,
        env={**os.environ, "BENCH_BODY": body, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return {
        "requests": requests,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


# The benchmarks ------------------------------------------------------------------------


def bench_throughput(args: argparse.Namespace) -> list[Row]:
    """Attach from the pool under gunicorn (2 workers) against a bare Flask view; and, for
    scale, a minimal view that runs the same SQL on raw sqlite3 (bench/baselines/floor_app.py)."""
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
            f"{rps['bare']:.0f} req/s (bare Flask view)",
            rps["promo"] / rps["bare"],
            ">= 0.5",
            f"{totals['promo'][0]} codes drawn, none twice (unique index), no non-2xx; "
            f"the floor view below: {rps['floor'] / rps['bare']:.2f} of the bare view",
        ),
        Row(
            f"(scale) the same SQL in a minimal view on raw sqlite3, req/s ({server})",
            f"{rps['floor']:.0f} req/s",
            f"{rps['bare']:.0f} req/s (bare Flask view)",
            rps["floor"] / rps["bare"],
            "none",
            f"the service reaches {rps['promo'] / rps['floor']:.2f} of this floor; "
            "bench/baselines/floor_app.py",
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


def interleaved_attach(
    shops: dict[str, Shop], rounds: int, per_round: int = 20
) -> dict[str, list[float]]:
    """Time sequential attach calls to each shop (a gunicorn each), interleaved by `per_round`;
    after each round the calls' codes are put back (new free codes, outside the timed calls),
    so that the pools keep their sizes. Return each shop's latencies in seconds."""
    samples: dict[str, list[float]] = {name: [] for name in shops}
    with ExitStack() as stack:
        ports = {
            name: stack.enter_context(gunicorn("wsgi:app", {"DATABASE_URL": shop.url}))
            for name, shop in shops.items()
        }
        engines = {name: create_engine(shop.url) for name, shop in shops.items()}
        for name, port in ports.items():
            for _ in range(per_round):
                post(port, shops[name].attach_body())  # warm up
            add_free_codes(engines[name], shops[name], range(per_round), "BACK")
        for number in range(1, rounds + 1):
            for name, port in ports.items():
                body = shops[name].attach_body()
                for _ in range(per_round):
                    status, seconds = post(port, body)
                    assert status == 200, f"attach answered {status}"
                    samples[name].append(seconds)
                numbers = range(number * per_round, (number + 1) * per_round)
                add_free_codes(engines[name], shops[name], numbers, "BACK")
        for engine in engines.values():
            engine.dispose()
    return samples


def bench_latency(args: argparse.Namespace) -> list[Row]:
    """Attach latency with a large pool against a small one, interleaved in rounds.

    After each round the calls' codes are put back (new free codes, outside the timed
    calls), so that the pools keep their sizes however many calls are made. Many calls
    are needed: an attach writes about six pages to the WAL and SQLite checkpoints every
    1,000, so about one call in 160 pays for a checkpoint; the slowest 1 % are mostly
    those, and a p99 taken over a few hundred calls is mostly chance.
    """
    shops = {
        "big": make_shop(sqlite_url("latency-big.db"), free_codes=args.codes),
        "small": make_shop(sqlite_url("latency-small.db"), free_codes=1000),
    }
    per_round = 20
    samples = interleaved_attach(shops, args.latency_rounds, per_round)
    rows = []
    for label, fraction in (("p50", 0.5), ("p99", 0.99)):
        big_value = percentile(samples["big"], fraction) * 1000
        small_value = percentile(samples["small"], fraction) * 1000
        rows.append(
            Row(
                f"attach {label} latency, {args.codes:,} free codes vs 1,000",
                f"{big_value:.2f} ms",
                f"{small_value:.2f} ms",
                big_value / small_value,
                "<= 1.2",
                f"{len(samples['big'])} sequential calls each, interleaved by {per_round}; "
                "each pool topped up after each round",
            )
        )
    return rows


def run_measured(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Run a command; return its wall time in seconds and its peak resident memory in KiB.

    The peak is the process's own high-water mark (VmHWM), read while it runs: the
    rusage of a child counts the memory of the parent it was forked from.
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "SECRET_KEY": "bench", **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    peak = 0
    while process.poll() is None:
        peak = max(peak, high_water_mark(process.pid))
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed")
    return elapsed, peak


def high_water_mark(pid: int) -> int:
    """Return the peak resident memory of a running process in KiB (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def import_command(shop: Shop, path: Path) -> list[str]:
    return [
        str(BIN / "flask"),
        "--app",
        "wsgi",
        "promo",
        "import-codes",
        str(path),
        "--loyalty-id",
        str(shop.import_loyalty_id),
    ]


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


def bench_busy(args: argparse.Namespace) -> list[Row]:
    """Attach p99 while a large upload runs through the page (the issue's row), and while
    `promo import-codes` runs, against attach p99 on the same server when idle."""
    return [busy_row(args, "upload"), busy_row(args, "import-codes")]


CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def sign_in_to_page(browser: requests.Session, site: str) -> None:
    """Sign `browser` in to the merchant's page at `site` as the bench admin."""
    form = browser.get(f"{site}/login", timeout=30).text
    browser.post(
        f"{site}/login",
        data={
            "csrf_token": CSRF_FIELD.search(form)[1],
            "name": "bench",
            "password": BENCH_ADMIN_PASSWORD,
        },
        timeout=30,
    ).raise_for_status()


def page_upload(port: int, shop: Shop, path: Path) -> str:
    """Sign in to the page as the bench admin and upload `path` to the import program;
    return the report page."""
    import requests

    site = f"http://127.0.0.1:{port}/admin"
    with requests.Session() as browser:
        sign_in_to_page(browser, site)
        upload_url = f"{site}/programs/{shop.import_loyalty_id}/upload"
        form = browser.get(upload_url, timeout=30).text
        with open(path, "rb") as file:
            report = browser.post(
                upload_url,
                data={"csrf_token": CSRF_FIELD.search(form)[1]},
                files={"file": (path.name, file, "text/plain")},
                timeout=1800,
            )
        report.raise_for_status()
        # The answer is the upload job's page: wait for the job's end, as the page does.
        while not browser.get(f"{report.url}.json", timeout=30).json()["finished"]:
            time.sleep(0.2)
        return browser.get(report.url, timeout=30).text


BENCH_ADMIN_PASSWORD = "bench-password"
FLASK_PROMO = (BIN / "flask", "--app", "wsgi", "promo")


def busy_row(args: argparse.Namespace, source: str) -> Row:
    path = codes_file(args.codes)
    shop = make_shop(sqlite_url(f"busy-{source}.db"), free_codes=args.pool)
    body = shop.attach_body()
    env = {"DATABASE_URL": shop.url}
    run_env = {**os.environ, "SECRET_KEY": "bench", **env}
    subprocess.run(
        [*FLASK_PROMO, "create-admin", "bench", "--password", BENCH_ADMIN_PASSWORD],
        cwd=ROOT,
        env=run_env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    pause = 0.01
    idle: list[float] = []
    busy: list[float] = []
    statuses: list[int] = []
    # The page's upload no longer runs within its request (an upload job); the long timeout
    # is kept for the benchmark's other uses of this server.
    with gunicorn("wsgi:app", env, timeout=1800) as port:
        for _ in range(20):
            post(port, body)
        for _ in range(500):
            status, seconds = post(port, body)
            statuses.append(status)
            idle.append(seconds)
            time.sleep(pause)
        started = time.perf_counter()
        if source == "upload":
            outcome: dict[str, object] = {}

            def upload() -> None:
                try:
                    outcome["report"] = page_upload(port, shop, path)
                except Exception as error:  # reported below, in the main thread
                    outcome["error"] = error

            worker = threading.Thread(target=upload)
            worker.start()
            running = worker.is_alive
        else:
            importer = subprocess.Popen(
                import_command(shop, path),
                cwd=ROOT,
                env=run_env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

            def running() -> bool:
                return importer.poll() is None

        while running():
            status, seconds = post(port, body)
            statuses.append(status)
            busy.append(seconds)
            time.sleep(pause)
        import_time = time.perf_counter() - started
        if source == "upload":
            worker.join()
            assert "error" not in outcome, f"the upload failed: {outcome.get('error')}"
        else:
            assert importer.returncode == 0, "the import failed"
    bad = [status for status in statuses if status != 200]
    assert not bad, f"{len(bad)} attach calls failed: {sorted(set(bad))}"
    assert count_codes(shop.url, shop.import_loyalty_id) == args.codes
    idle_p99, busy_p99 = percentile(idle, 0.99) * 1000, percentile(busy, 0.99) * 1000
    what = "the page's upload" if source == "upload" else "promo import-codes"
    return Row(
        f"attach p99 while {what} imports {args.codes:,} codes (gunicorn -w 2)",
        f"{busy_p99:.1f} ms (p50 {percentile(busy, 0.5) * 1000:.1f}, max "
        f"{max(busy) * 1000:.0f}; {len(busy)} calls over {import_time:.0f} s)",
        f"{idle_p99:.1f} ms idle (p50 {percentile(idle, 0.5) * 1000:.1f}; {len(idle)} calls)",
        busy_p99 / idle_p99,
        "<= 10",
        "all answered 200",
    )


def bench_page(args: argparse.Namespace) -> list[Row]:
    return [page_row(args, "paging")]


def bench_counts(args: argparse.Namespace) -> list[Row]:
    """The overview and a program's page at --codes codes vs 1,000 (SQLite, PostgreSQL), and
    attach req/s on PostgreSQL with and without the counting triggers (bench/counts.py)."""
    import counts  # bench/counts.py, which imports this module

    return counts.run_counts(args)


def page_row(args: argparse.Namespace, which: str) -> Row:
    """Run bench/page.py in its own process (it measures its own peak memory)."""
    what = {
        "paging": "open page 5,000 of a program's codes vs page 1",
        "upload": f"import {args.codes:,} codes through the page's upload",
    }[which]
    target = {"paging": "<= 1.5", "upload": ">= 0.5"}[which]
    completed = subprocess.run(
        [sys.executable, "bench/page.py", which, str(args.codes), str(args.import_runs)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        output = (completed.stderr.strip() or completed.stdout.strip())[-300:]
        return Row(what, f"failed (exit {completed.returncode})", "", None, target, output)
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    if "unavailable" in result:
        return Row(what, "not available", "", None, target, result["unavailable"])
    return Row(
        what, result["measured"], result["baseline"], result["ratio"], target, result["note"]
    )


def bench_scale(args: argparse.Namespace) -> list[Row]:
    """Import, attach and export_all at --scale-codes codes in one program, on each of
    --scale-dbs (bench/scale.py); each row's `db` says which."""
    import scale  # bench/scale.py, which imports this module

    rows: list[Row] = []
    for db in args.scale_dbs:
        options = {"db": db, "codes": args.scale_codes, "import_runs": args.scale_import_runs}
        rows += scale.run_scale(argparse.Namespace(**{**vars(args), **options}))
    return rows


BENCHMARKS = {
    "throughput": bench_throughput,
    "latency": bench_latency,
    "import": bench_import,
    "busy": bench_busy,
    "page": bench_page,
    "counts": bench_counts,
    "scale": bench_scale,
}


# Reporting -----------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    memory = ""
    try:
        with open("/proc/meminfo") as info:
            kib = int(next(line.split()[1] for line in info if line.startswith("MemTotal")))
            memory = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        pass
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {memory} memory, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, load average {load}"
    )


def table(rows: list[Row]) -> str:
    lines = [
        "| what | measured | baseline | ratio | target | verdict | note |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        ratio = "" if row.ratio is None else f"{row.ratio:.2f}"
        lines.append(
            f"| {row.what} | {row.measured} | {row.baseline} | {ratio} | {row.target} "
            f"| {row.verdict} | {row.note} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=ROWS, default=list(ROWS))
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
    import counts  # bench/counts.py: its own options

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
    if shutil.which("wrk") is None and "throughput" in args.only:
        sys.exit("The throughput benchmark needs wrk (apt-get install wrk).")
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"Machine: {machine()}", flush=True)
    rows: list[Row] = []
    for name in args.only:
        started = time.perf_counter()
        print(f"Running {name} ...", flush=True)
        rows.extend(BENCHMARKS[name](args))
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
