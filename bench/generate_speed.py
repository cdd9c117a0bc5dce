"""Generating codes against importing the same codes from a file, on SQLite.

Each run makes two new databases: `promo generate-codes` writes COUNT codes into the first;
those codes are written to a .txt, and `promo import-codes` reads that file into the second.
Both are whole CLI processes, timed from start to end; runs alternate and the medians are
compared. The issue's target: generation at least 0.5 of the import's rate.

    python bench/generate_speed.py [--codes 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from common import BIN, OUT, count_codes, import_command, make_shop, sqlite_url  # noqa: E402
from servers import run_measured  # noqa: E402
from sqlalchemy import select  # noqa: E402

from promo_app import create_app  # noqa: E402
from promo_app.models import PromoCode  # noqa: E402


def generate_command(loyalty_id: int, count: int) -> list[str]:
    return [
        str(BIN / "flask"), "--app", "wsgi", "promo", "generate-codes",
        "--loyalty-id", str(loyalty_id), "--count", str(count),
        "--prefix", "GEN-", "--pattern", "*****-*****",
    ]  # fmt: skip


def write_codes(url: str, loyalty_id: int, path: Path) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context(), open(path, "w") as file:
        promo = app.extensions["promo"]
        query = select(PromoCode.code).where(PromoCode.loyalty_id == loyalty_id)
        for code in promo.db.session.scalars(query.order_by(PromoCode.id)):
            file.write(code + "\n")
        promo.db.session.close()
        promo.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    path = OUT / "generated-codes.txt"
    generated, imported = [], []
    for _ in range(args.runs):
        target = make_shop(sqlite_url("generate.db"), free_codes=0)
        seconds, _ = run_measured(
            generate_command(target.import_loyalty_id, args.codes), {"DATABASE_URL": target.url}
        )
        generated.append(seconds)
        assert count_codes(target.url, target.import_loyalty_id) == args.codes
        write_codes(target.url, target.import_loyalty_id, path)
        source = make_shop(sqlite_url("generate-import.db"), free_codes=0)
        seconds, _ = run_measured(import_command(source, path), {"DATABASE_URL": source.url})
        imported.append(seconds)
        assert count_codes(source.url, source.import_loyalty_id) == args.codes
    made, read = statistics.median(generated), statistics.median(imported)
    print(f"generate {args.codes:,} codes: {args.codes / made:,.0f} codes/s ({made:.1f} s)")
    print(f"import the same from a file: {args.codes / read:,.0f} codes/s ({read:.1f} s)")
    print(f"ratio of rates: {read / made:.2f} (target >= 0.5); runs: {generated} vs {imported}")


if __name__ == "__main__":
    main()
