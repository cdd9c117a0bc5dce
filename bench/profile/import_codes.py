"""Profile `promo import-codes`'s work in process: where does an import spend its time?

.venv/bin/python bench/profile/import_codes.py [CODES]   # prints pyinstrument's tree
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common.py
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout

from common import OUT, codes_file, make_shop, sqlite_url
from pyinstrument import Profiler

from promo_app import create_app
from promo_app.codes import get_program
from promo_app.importing.batches import import_codes
from promo_app.importing.files import read_code_file
from promo_app.importing.report import ImportReport


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    OUT.mkdir(parents=True, exist_ok=True)
    path = codes_file(count)
    shop = make_shop(sqlite_url("profile-import.db"), free_codes=0)
    app = create_app({"SQLALCHEMY_DATABASE_URI": shop.url, "SECRET_KEY": "bench"})
    with app.app_context():
        session = app.extensions["promo"].db.session
        program = get_program(session, shop.import_loyalty_id)
        profiler = Profiler(interval=0.001)
        started = time.perf_counter()
        with profiler, open(path, "rb") as file:
            report = import_codes(
                session,
                program,
                read_code_file(file, path.name),
                report=ImportReport(keep=20),
                after_batch=lambda _report: session.commit(),
            )
        elapsed = time.perf_counter() - started
    print(f"{report.inserted} codes in {elapsed:.2f} s: {report.inserted / elapsed:,.0f} rows/s")
    print(profiler.output_text(unicode=False, color=False, show_all=False))


if __name__ == "__main__":
    main()
