"""Measure export_all on a program of a million codes: memory and time, JSON and XML.

    python bench/export_all_memory.py [--codes 1000000]

Builds a SQLite database in bench/out/ with a program of 10,000 codes and one of
--codes codes, then exports each in a fresh child process (the Flask app, reading the
streamed answer chunk by chunk) and prints the time taken and its resident memory before
and during the export (sampled every 1,000 chunks).
Flat memory means the two peaks are about the same.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def build(url: str, sizes: list[int]) -> tuple[str, list[int]]:
    from promo_app import create_app
    from promo_app.importing.batches import import_codes
    from promo_app.importing.report import ImportLine
    from promo_app.models import LoyaltyProgram
    from promo_app.tokens import create_token

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        promo = app.extensions["promo"]
        promo.create_all()
        session = promo.db.session
        ids = []
        for size in sizes:
            program = LoyaltyProgram(name=f"bench {size}")
            session.add(program)
            session.flush()
            lines = (ImportLine(n, f"BENCH-{n:08d}") for n in range(size))
            import_codes(session, program, lines, batch_size=20_000)
            session.commit()
            ids.append(program.id)
        token = create_token(session, f"bench {time.time()}")
        session.commit()
    return token, ids


def current_rss() -> int:
    """The process's resident memory now, in KiB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def child(url: str, token: str, loyalty_id: int, fmt: str) -> None:
    from promo_app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    client = app.test_client()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    response = client.post(
        "/api/v1.1/promocodes/export_all",
        json={"token": token, "loyalty_id": loyalty_id, "format": fmt},
        buffered=False,
    )
    received = 0
    start_rss = highest_rss = current_rss()
    for number, chunk in enumerate(response.response):
        received += len(chunk)
        if number % 1000 == 0:
            highest_rss = max(highest_rss, current_rss())
    response.close()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{received} {seconds:.2f} {base} {peak} {start_rss} {highest_rss}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--codes", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=4, metavar=("URL", "TOKEN", "LOYALTY_ID", "FORMAT"))
    args = parser.parse_args()
    if args.child:
        url, token, loyalty_id, fmt = args.child
        child(url, token, int(loyalty_id), fmt)
        return
    out = os.path.join(ROOT, "bench", "out")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "export_all.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    url = f"sqlite:///{path}"
    started = time.perf_counter()
    sizes = [10_000, args.codes]
    token, ids = build(url, sizes)
    print(f"built {sum(sizes)} codes in {time.perf_counter() - started:.1f} s")
    for fmt in ("json", "xml"):
        peaks = []
        for size, loyalty_id in zip(sizes, ids, strict=True):
            result = subprocess.run(
                [sys.executable, __file__, "--child", url, token, str(loyalty_id), fmt],
                capture_output=True,
                text=True,
                check=True,
            )
            received, seconds, _, peak, start_rss, highest_rss = result.stdout.split()
            peaks.append(int(highest_rss))
            print(
                f"export_all {fmt} {size:>9} codes: {int(received) / 1e6:8.1f} MB sent in "
                f"{float(seconds):6.2f} s ({size / float(seconds):,.0f} codes/s); "
                f"RSS {int(start_rss) / 1024:.1f} MiB before, "
                f"at most {int(highest_rss) / 1024:.1f} "
                f"MiB during (process high-water mark {int(peak) / 1024:.1f} MiB)"
            )
        print(
            f"export_all {fmt}: highest RSS ratio {sizes[1]:,} vs {sizes[0]:,} codes: "
            f"x{peaks[1] / peaks[0]:.2f}"
        )


if __name__ == "__main__":
    main()
