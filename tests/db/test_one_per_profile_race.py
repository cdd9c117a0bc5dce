"""Two draws for one profile of a one-per-profile program while the first is still open: on
PostgreSQL each runs on its own snapshot, so the unique index has to refuse the second; on
SQLite the second waits for the write lock and then sees the first's attachment."""

from __future__ import annotations

import threading

from sqlalchemy import select
from sqlalchemy.orm import Session

from promo_app.attach import claim_free_code
from promo_app.errors import NoCodesAvailable, RaceLost
from promo_app.importing.batches import import_codes
from promo_app.importing.report import ImportLine
from promo_app.models import LoyaltyProgram, Profile
from promo_app.times import utcnow


def test_a_second_open_draw_for_the_profile_never_attaches_a_second_code(app, session, shop):
    program = LoyaltyProgram(name="Once", universal=False, one_per_profile=True)
    session.add(program)
    session.flush()
    import_codes(session, program, [ImportLine(1, "ONCE-1"), ImportLine(2, "ONCE-2")])
    session.commit()
    loyalty_id = program.id
    with app.app_context():
        engine = app.extensions["promo"].engine

    def open_draw() -> tuple[Session, object]:
        drawing = Session(engine)
        alice = drawing.scalars(
            select(Profile).where(Profile.profile_id == shop.profiles["alice"])
        ).one()
        return drawing, claim_free_code(drawing.connection(), loyalty_id, alice, utcnow())

    first, first_result = open_draw()
    second: dict[str, object] = {}

    def second_draw() -> None:
        drawing = None
        try:
            drawing, second["result"] = open_draw()
        except (RaceLost, NoCodesAvailable) as error:
            second["result"] = error
        finally:
            if drawing is not None:
                drawing.rollback()
                drawing.close()

    thread = threading.Thread(target=second_draw)
    thread.start()
    thread.join(timeout=1)
    assert thread.is_alive()  # it waits: for the index entry (PostgreSQL) or the lock (SQLite)
    first.commit()
    first.close()
    thread.join(timeout=10)
    assert first_result.code == "ONCE-1"
    expected = RaceLost if engine.dialect.name == "postgresql" else NoCodesAvailable
    assert isinstance(second["result"], expected)


def test_an_ordinary_program_lets_a_profile_draw_twice(app, session, shop):
    program = LoyaltyProgram(name="Twice", universal=False)
    session.add(program)
    session.flush()
    import_codes(session, program, [ImportLine(1, "TWICE-1"), ImportLine(2, "TWICE-2")])
    session.commit()
    loyalty_id = program.id
    with app.app_context():
        engine = app.extensions["promo"].engine
    codes = []
    for _ in range(2):
        with Session(engine) as drawing:
            alice = drawing.scalars(
                select(Profile).where(Profile.profile_id == shop.profiles["alice"])
            ).one()
            codes.append(claim_free_code(drawing.connection(), loyalty_id, alice, utcnow()).code)
            drawing.commit()
    assert codes == ["TWICE-1", "TWICE-2"]
