"""What the benchmarks share: the paths, a row of the table, the bench shop and its codes,
and the report (the machine, the table). Importing it puts the checkout on the path, for
promo_app."""

from __future__ import annotations

import json
import os
import platform
import random
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, func, insert, select  # noqa: E402

from promo_app import create_app  # noqa: E402
from promo_app.models import Database, LoyaltyProgram, PromoCode  # noqa: E402
from promo_app.profiles import add_profile  # noqa: E402
from promo_app.times import utcnow  # noqa: E402
from promo_app.tokens import create_token  # noqa: E402

OUT = ROOT / "bench" / "out"
BIN = Path(sys.executable).parent


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
