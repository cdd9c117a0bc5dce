"""The PostgreSQL baseline of the ten-million-code import: `COPY promo_code (…) FROM STDIN` of
the codes of FILE (trimmed) into the same table, indexes and triggers, one transaction,
through psycopg 3's `cursor.copy()`.

Usage: python bench/baselines/copy_import.py DATABASE_URL CODES_FILE LOYALTY_ID
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import psycopg

BLOCK = 10_000  # lines written to COPY at a time


def main(url: str, codes_path: str, loyalty_id: int) -> None:
    created = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    tail = f"\tf\tt\t{created}\n"
    with (
        psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection,
        connection.cursor() as cursor,
        open(codes_path, encoding="utf-8") as lines,
        cursor.copy(
            "COPY promo_code (loyalty_id, code, universal, free, created) FROM STDIN"
        ) as copy,
    ):
        block: list[str] = []
        for line in lines:
            if code := line.strip():
                block.append(f"{loyalty_id}\t{code}{tail}")
                if len(block) >= BLOCK:
                    copy.write("".join(block))
                    block = []
        if block:
            copy.write("".join(block))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
