"""A program's counts of codes kept as they change: `promo_program_count` and its triggers.

Every change of a code (insert, update of what its status depends on, delete) and every
first or last attachment of a universal code adds its delta to a row of
`promo_program_count` keyed by (program, day of expiry, slot), in the transaction of the
change, so the page reads a program's counts by summing a few rows (promo_app/counts.py).
The triggers live in the database: every writer (the attach hot path, the import engine,
the page's actions, a host's own SQL) keeps the counts without a line of Python.

On PostgreSQL the slot is the backend's pid modulo 16, so concurrent attaches of one
program update different rows instead of queueing behind one; inserts are counted once per
statement (a transition table), so an import batch adds one row per day of expiry. The
universal code's "given out" depends on its attachments: its first attachment and its last
detachment take the code's row lock, so that two concurrent changes cannot both see
"first" or "last" (see `ATTACHED_FUNCTION`); those triggers run once per statement, as a
row trigger there would see the statement's other rows. SQLite has one writer at a time
and fires a row trigger right after its row.

The upgrade fills the rows from the codes already there. The SQL is written out here (not
imported from promo_app) so that later changes cannot change what this revision does.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLE = "promo_program_count"
COLUMNS = ("codes", "unused", "attached", "activated", "voided")
# The expires_day of codes that never expire (promo_app.counts.NO_EXPIRY).
NO_EXPIRY = 2_147_483_647
SLOTS = 16


def day(dialect: str, column: str) -> str:
    """The day (since 1970-01-01, UTC) that `column` falls on; NO_EXPIRY for none."""
    if dialect == "postgresql":
        days = f"({column}::date - DATE '1970-01-01')"
    else:
        days = f"(CAST(strftime('%s', {column}) AS INTEGER) / 86400)"
    return f"COALESCE({days}, {NO_EXPIRY})"


def given_out(row: str) -> str:
    """Whether the code `row` is given out: a personal code not free, a universal code
    with an attachment."""
    return (
        f"((NOT {row}.universal AND NOT {row}.free) OR ({row}.universal AND EXISTS "
        f"(SELECT 1 FROM promo_attachment WHERE promo_attachment.code_id = {row}.id)))"
    )


def delta(dialect: str, row: str, sign: int, given: str | None = None) -> str:
    """A SELECT of what the code `row` adds to its program's counts (times `sign`)."""
    live = f"{row}.voided IS NULL AND {row}.activated IS NULL"
    given = given or given_out(row)
    return (
        f"SELECT {row}.loyalty_id AS loyalty_id, {day(dialect, f'{row}.expire_date')} "
        f"AS expires_day, {sign} AS codes, "
        f"CASE WHEN {live} AND NOT {given} THEN {sign} ELSE 0 END AS unused, "
        f"CASE WHEN {live} AND {given} THEN {sign} ELSE 0 END AS attached, "
        f"CASE WHEN {row}.voided IS NULL AND {row}.activated IS NOT NULL "
        f"THEN {sign} ELSE 0 END AS activated, "
        f"CASE WHEN {row}.voided IS NOT NULL THEN {sign} ELSE 0 END AS voided"
    )


def add(dialect: str, deltas: str) -> str:
    """An INSERT … ON CONFLICT that adds the rows of `deltas` to the counts."""
    slot = f"pg_backend_pid() % {SLOTS}" if dialect == "postgresql" else "0"
    sums = ", ".join(f"sum({name})" for name in COLUMNS)
    updates = ", ".join(f"{name} = {TABLE}.{name} + excluded.{name}" for name in COLUMNS)
    return (
        f"INSERT INTO {TABLE} (loyalty_id, expires_day, slot, {', '.join(COLUMNS)}) "
        f"SELECT loyalty_id, expires_day, {slot}, {sums} FROM ({deltas}) AS delta "
        # SQLite needs a WHERE before ON CONFLICT in an INSERT … SELECT.
        "WHERE true GROUP BY loyalty_id, expires_day "
        f"ON CONFLICT (loyalty_id, expires_day, slot) DO UPDATE SET {updates}"
    )


def universal_flip(dialect: str, code_id: str, sign: int) -> str:
    """Count the universal code `code_id` given out (sign 1) or back (-1), if it is live."""
    return add(
        dialect,
        f"SELECT c.loyalty_id AS loyalty_id, {day(dialect, 'c.expire_date')} AS expires_day, "
        f"0 AS codes, {-sign} AS unused, {sign} AS attached, 0 AS activated, 0 AS voided "
        f"FROM promo_code AS c WHERE c.id = {code_id} AND c.universal "
        "AND c.voided IS NULL AND c.activated IS NULL",
    )


# What an update changes that a code's status depends on.
CHANGED = (
    "OLD.free <> NEW.free OR OLD.universal <> NEW.universal "
    "OR OLD.loyalty_id <> NEW.loyalty_id "
    "OR (OLD.voided IS NULL) <> (NEW.voided IS NULL) "
    "OR (OLD.activated IS NULL) <> (NEW.activated IS NULL) "
    "OR {expiry_changed}"
)
WATCHED = "free, universal, loyalty_id, voided, activated, expire_date"


def other_attachment(row: str) -> str:
    return (
        "EXISTS (SELECT 1 FROM promo_attachment AS other "
        f"WHERE other.code_id = {row}.code_id AND other.id <> {row}.id)"
    )


def sqlite_statements() -> list[str]:
    changed = CHANGED.format(expiry_changed="OLD.expire_date IS NOT NEW.expire_date")
    return [
        f"CREATE TRIGGER promo_code_counted_insert AFTER INSERT ON promo_code "
        f"BEGIN {add('sqlite', delta('sqlite', 'NEW', 1))}; END",
        f"CREATE TRIGGER promo_code_counted_update AFTER UPDATE OF {WATCHED} ON promo_code "
        f"WHEN {changed} BEGIN "
        f"{add('sqlite', delta('sqlite', 'OLD', -1) + ' UNION ALL ' + delta('sqlite', 'NEW', 1))};"
        " END",
        # Before: a code's attachments go with it (ON DELETE CASCADE) after the delete.
        f"CREATE TRIGGER promo_code_counted_delete BEFORE DELETE ON promo_code "
        f"BEGIN {add('sqlite', delta('sqlite', 'OLD', -1))}; END",
        f"CREATE TRIGGER promo_attachment_counted_insert AFTER INSERT ON promo_attachment "
        f"WHEN NOT NEW.personal AND NOT {other_attachment('NEW')} "
        f"BEGIN {universal_flip('sqlite', 'NEW.code_id', 1)}; END",
        f"CREATE TRIGGER promo_attachment_counted_delete AFTER DELETE ON promo_attachment "
        f"WHEN NOT OLD.personal AND NOT {other_attachment('OLD')} "
        f"BEGIN {universal_flip('sqlite', 'OLD.code_id', -1)}; END",
        *program_statements(),
    ]


def program_statements() -> list[str]:
    # A program's rows go with it; a new program starts with none (SQLite may hand out the
    # id of a deleted program again).
    return [
        f"CREATE TRIGGER promo_loyalty_program_counted_{event} AFTER {event.upper()} "
        f"ON promo_loyalty_program FOR EACH ROW "
        + (
            "EXECUTE FUNCTION promo_forget_program_counts()"
            if op.get_bind().dialect.name == "postgresql"
            else f"BEGIN DELETE FROM {TABLE} WHERE loyalty_id = {row}.id; END"
        )
        for event, row in (("insert", "NEW"), ("delete", "OLD"))
    ]


def plpgsql(name: str, body: str) -> str:
    return (
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n{body}\nEND\n$$"
    )


# Once per statement: PostgreSQL fires a row trigger after the whole statement, when every
# row of a multi-row INSERT sees the others; a statement's transition table tells them apart.
ATTACHED_FUNCTION = f"""
DECLARE
    code_pk integer;
BEGIN
FOR code_pk IN SELECT DISTINCT code_id FROM added WHERE NOT personal ORDER BY code_id LOOP
    -- A detach of this code waits for us (FOR UPDATE against FOR KEY SHARE), and we for it.
    PERFORM 1 FROM promo_code WHERE id = code_pk FOR KEY SHARE;
    -- Most attachments of a universal code are not its first: they change no count and
    -- take no lock that would queue them behind each other.
    CONTINUE WHEN EXISTS (SELECT 1 FROM promo_attachment AS other WHERE other.code_id = code_pk
                          AND other.id NOT IN (SELECT id FROM added));
    -- Perhaps the first: one at a time per code, then look again (a fresh snapshot).
    PERFORM 1 FROM promo_code WHERE id = code_pk FOR NO KEY UPDATE;
    CONTINUE WHEN EXISTS (SELECT 1 FROM promo_attachment AS other WHERE other.code_id = code_pk
                          AND other.id NOT IN (SELECT id FROM added));
    {universal_flip("postgresql", "code_pk", 1)};
END LOOP;
RETURN NULL;
END"""
DETACHED_FUNCTION = f"""
DECLARE
    code_pk integer;
BEGIN
FOR code_pk IN SELECT DISTINCT code_id FROM removed WHERE NOT personal ORDER BY code_id LOOP
    -- Waits for every transaction attaching this code, so that none is missed below.
    PERFORM 1 FROM promo_code WHERE id = code_pk FOR UPDATE;
    -- The code itself is being deleted: its own trigger counted it.
    CONTINUE WHEN NOT FOUND;
    CONTINUE WHEN EXISTS (SELECT 1 FROM promo_attachment WHERE code_id = code_pk);
    {universal_flip("postgresql", "code_pk", -1)};
END LOOP;
RETURN NULL;
END"""


def postgresql_statements() -> list[str]:
    pg = "postgresql"
    changed = (
        CHANGED.format(expiry_changed="OLD.expire_date IS DISTINCT FROM NEW.expire_date")
        .replace("OLD.", "o.")
        .replace("NEW.", "n.")
    )
    pairs = f" FROM old_codes AS o JOIN new_codes AS n ON n.id = o.id WHERE {changed}"
    inserted = delta(pg, "inserted", 1, given="(NOT inserted.universal AND NOT inserted.free)")
    deleted = delta(pg, "d", -1, given="(NOT d.free)")
    return [
        plpgsql(
            "promo_count_inserted_codes",
            f"{add(pg, inserted + ' FROM inserted_codes AS inserted')};\nRETURN NULL;",
        ),
        # Once per statement, from its transition tables: a row trigger would add to the same
        # counter row once per code, and PostgreSQL keeps every version of that row until the
        # transaction ends, so a bulk UPDATE or DELETE of n codes would cost n² (100,000
        # codes: minutes).
        plpgsql(
            "promo_count_updated_codes",
            f"{add(pg, delta(pg, 'o', -1) + pairs + ' UNION ALL ' + delta(pg, 'n', 1) + pairs)};"
            "\nRETURN NULL;",
        ),
        plpgsql(
            "promo_count_deleted_codes",
            f"{add(pg, deleted + ' FROM deleted_codes AS d WHERE NOT d.universal')};\nRETURN NULL;",
        ),
        # A universal code, row by row (a program has few): whether it was given out depends
        # on its attachments, which its delete removes (ON DELETE CASCADE) before a statement
        # trigger would run.
        plpgsql(
            "promo_count_deleted_universal_code",
            f"{add(pg, delta(pg, 'OLD', -1))};\nRETURN OLD;",
        ),
        f"CREATE FUNCTION promo_count_attached() RETURNS trigger LANGUAGE plpgsql AS "
        f"$${ATTACHED_FUNCTION}$$",
        f"CREATE FUNCTION promo_count_detached() RETURNS trigger LANGUAGE plpgsql AS "
        f"$${DETACHED_FUNCTION}$$",
        plpgsql(
            "promo_forget_program_counts",
            f"DELETE FROM {TABLE} WHERE loyalty_id = "
            "CASE WHEN TG_OP = 'INSERT' THEN NEW.id ELSE OLD.id END;\nRETURN NULL;",
        ),
        "CREATE TRIGGER promo_code_counted_insert AFTER INSERT ON promo_code "
        "REFERENCING NEW TABLE AS inserted_codes FOR EACH STATEMENT "
        "EXECUTE FUNCTION promo_count_inserted_codes()",
        "CREATE TRIGGER promo_code_counted_update AFTER UPDATE ON promo_code "
        "REFERENCING OLD TABLE AS old_codes NEW TABLE AS new_codes FOR EACH STATEMENT "
        "EXECUTE FUNCTION promo_count_updated_codes()",
        "CREATE TRIGGER promo_code_counted_delete AFTER DELETE ON promo_code "
        "REFERENCING OLD TABLE AS deleted_codes FOR EACH STATEMENT "
        "EXECUTE FUNCTION promo_count_deleted_codes()",
        # Before: a code's attachments go with it (ON DELETE CASCADE) after the delete.
        "CREATE TRIGGER promo_code_counted_delete_universal BEFORE DELETE ON promo_code "
        "FOR EACH ROW WHEN (OLD.universal) EXECUTE FUNCTION promo_count_deleted_universal_code()",
        "CREATE TRIGGER promo_attachment_counted_insert AFTER INSERT ON promo_attachment "
        "REFERENCING NEW TABLE AS added FOR EACH STATEMENT "
        "EXECUTE FUNCTION promo_count_attached()",
        "CREATE TRIGGER promo_attachment_counted_delete AFTER DELETE ON promo_attachment "
        "REFERENCING OLD TABLE AS removed FOR EACH STATEMENT "
        "EXECUTE FUNCTION promo_count_detached()",
        *program_statements(),
    ]


TRIGGERS = {
    "promo_code": ("insert", "update", "delete"),
    "promo_attachment": ("insert", "delete"),
    "promo_loyalty_program": ("insert", "delete"),
}
POSTGRESQL_TRIGGERS = {"promo_code": ("delete_universal",)}
FUNCTIONS = (
    "promo_count_inserted_codes",
    "promo_count_updated_codes",
    "promo_count_deleted_codes",
    "promo_count_deleted_universal_code",
    "promo_count_attached",
    "promo_count_detached",
    "promo_forget_program_counts",
)


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("loyalty_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("expires_day", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("slot", sa.Integer(), nullable=False, autoincrement=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COLUMNS),
        sa.PrimaryKeyConstraint("loyalty_id", "expires_day", "slot", name=f"pk_{TABLE}"),
    )
    op.create_index(
        "ix_promo_code_expiry",
        "promo_code",
        ["loyalty_id", "expire_date"],
        sqlite_where=sa.text("expire_date IS NOT NULL"),
        postgresql_where=sa.text("expire_date IS NOT NULL"),
    )
    dialect = op.get_bind().dialect.name
    # The codes already there, counted before the triggers count the next changes (in one
    # transaction: on PostgreSQL, CREATE TRIGGER holds writers off until the commit).
    statements = postgresql_statements() if dialect == "postgresql" else sqlite_statements()
    for statement in statements:
        op.execute(statement)
    op.execute(add(dialect, delta(dialect, "c", 1) + " FROM promo_code AS c"))


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    triggers = [(table, event) for table, events in TRIGGERS.items() for event in events]
    if postgresql:
        triggers += [(t, event) for t, events in POSTGRESQL_TRIGGERS.items() for event in events]
    for table, event in triggers:
        name = f"{table}_counted_{event}"
        op.execute(f"DROP TRIGGER {name} ON {table}" if postgresql else f"DROP TRIGGER {name}")
    if postgresql:
        for function in FUNCTIONS:
            op.execute(f"DROP FUNCTION {function}()")
    op.drop_index("ix_promo_code_expiry", table_name="promo_code")
    op.drop_table(TABLE)
