"""The baseline of the import benchmark: plain sqlite3 executemany of the same rows
(the codes of FILE, trimmed) into the same promo_code table and indexes, one transaction.

Usage: python bench/baselines/plain_import.py DB_FILE CODES_FILE LOYALTY_ID
"""

from __future__ import annotations

import sqlite3
import sys
from datetime import UTC, datetime


def main(db_path: str, codes_path: str, loyalty_id: int) -> None:
    connection = sqlite3.connect(db_path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    created = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    with open(codes_path, encoding="utf-8") as lines:
        rows = ((loyalty_id, code, 0, 1, None, created) for line in lines if (code := line.strip()))
        connection.execute("BEGIN")
        connection.executemany(
            "INSERT INTO promo_code (loyalty_id, code, universal, free, expire_date, created)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        connection.execute("COMMIT")
    connection.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
