"""DirectStatement runs a Core statement on the driver's cursor: it must give the same rows
as SQLAlchemy's own execution of the same statement, on every database."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from promo_app.db.direct import DirectStatement
from promo_app.models import Attachment, PromoCode

codes = PromoCode.__table__

STATEMENTS = {
    # Bound values of types that the driver takes as they are, and a LIMIT in the statement.
    "codes of a program": (
        select(codes.c.id, codes.c.code, codes.c.universal, codes.c.free)
        .where(codes.c.loyalty_id == bindparam("program"))
        .order_by(codes.c.id)
        .limit(2),
        {},
    ),
    # A time, which SQLite stores as text through the type's own bind processor.
    "codes unexpired at a time": (
        select(codes.c.code)
        .where(
            codes.c.loyalty_id == bindparam("program"),
            or_(codes.c.expire_date.is_(None), codes.c.expire_date > bindparam("now")),
        )
        .order_by(codes.c.code),
        {"now": datetime(2030, 1, 1)},
    ),
    "a count over a join": (
        select(func.count()).select_from(codes.outerjoin(Attachment.__table__)),
        {},
    ),
}


@pytest.mark.parametrize("name", list(STATEMENTS))
def test_a_direct_statement_gives_the_rows_sqlalchemy_gives(engine, shop, name):
    statement, extra = STATEMENTS[name]
    params = {"program": shop.personal_id, **extra}
    with engine.connect() as connection:
        expected = [tuple(row) for row in connection.execute(statement, params)]
        direct = DirectStatement(statement).rows(connection, params)
    assert [tuple(row) for row in direct] == expected
    assert expected  # the case compares something


def test_a_direct_update_returns_its_rows_and_stays_in_the_connections_transaction(engine, shop):
    take = DirectStatement(
        update(codes)
        .where(codes.c.code == bindparam("wanted"), codes.c.free)
        .values(free=False)
        .returning(codes.c.code)
    )
    with engine.connect() as connection:
        assert take.rows(connection, {"wanted": "FREE-2"}) == [("FREE-2",)]
        assert take.rows(connection, {"wanted": "FREE-2"}) == []
        connection.rollback()
    with engine.connect() as connection:
        free = connection.execute(select(codes.c.free).where(codes.c.code == "FREE-2")).scalar()
    assert free is True  # rolled back with the connection


def test_a_direct_statement_raises_sqlalchemys_errors(engine, shop):
    duplicate = DirectStatement(
        codes.insert().values(
            loyalty_id=bindparam("program"), code="FREE-1", universal=False, free=True
        )
    )
    with engine.connect() as connection, pytest.raises(IntegrityError):
        duplicate.rows(connection, {"program": shop.personal_id})
