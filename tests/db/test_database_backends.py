"""What differs between SQLite and PostgreSQL under the same code: drawing from the pool
while another draw is open, bulk imports, and the spellings of a PostgreSQL URL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from promo_app import create_app
from promo_app.attach import claim_free_code
from promo_app.importing.batches import import_codes
from promo_app.importing.report import ImportLine
from promo_app.models import LoyaltyProgram, Profile
from promo_app.times import utcnow
from tests.helpers import call


def draw(engine, shop, profile_name: str) -> tuple[Session, str]:
    """Draw a code from the personal pool in a new session, left open (not committed)."""
    session = Session(engine)
    program = session.get_one(LoyaltyProgram, shop.personal_id)
    profile = session.scalars(
        select(Profile).where(Profile.profile_id == shop.profiles[profile_name])
    ).one()
    return session, claim_free_code(session.connection(), program.id, profile, utcnow()).code


def test_a_draw_never_gets_the_code_an_open_draw_took(app, shop):
    with app.app_context():
        engine = app.extensions["promo"].engine
    first, first_code = draw(engine, shop, "alice")
    second: dict[str, str] = {}

    def second_draw() -> None:
        session, second["code"] = draw(engine, shop, "bob")
        session.commit()
        session.close()

    thread = threading.Thread(target=second_draw)
    thread.start()
    thread.join(timeout=1)
    if engine.dialect.name == "postgresql":
        # FOR UPDATE SKIP LOCKED: the second draw passes the locked code without waiting.
        assert not thread.is_alive()
        assert second["code"] == "FREE-2"
    else:
        # SQLite has one writer at a time: the second draw waits for the first to commit.
        assert thread.is_alive()
    first.commit()
    first.close()
    thread.join(timeout=10)
    assert (first_code, second["code"]) == ("FREE-1", "FREE-2")


def test_a_draw_after_a_rolled_back_draw_gets_the_same_code(app, shop):
    with app.app_context():
        engine = app.extensions["promo"].engine
    first, first_code = draw(engine, shop, "alice")
    first.rollback()
    first.close()
    second, second_code = draw(engine, shop, "bob")
    second.commit()
    second.close()
    assert first_code == second_code == "FREE-1"


def test_import_reports_repeats_and_codes_the_program_had(session, shop):
    program = session.get_one(LoyaltyProgram, shop.personal_id)
    lines = [ImportLine(1, "FREE-1"), ImportLine(2, " NEW-1 "), ImportLine(3, "NEW-1")]
    lines += [ImportLine(4, "bad\x00code"), ImportLine(5, "NEW-2")]
    report = import_codes(session, program, lines, insert_size=2)
    session.commit()
    assert (report.inserted, report.duplicated, report.invalid) == (2, 2, 1)
    assert sorted((line, outcome, text) for line, _code, outcome, text in report.problems) == [
        (1, "duplicated", "Already in the loyalty program."),
        (3, "duplicated", "Duplicated earlier in this import."),
        (4, "invalid", "A promo code must not contain control characters."),
    ]


@pytest.mark.parametrize("scheme", ["postgres://", "postgresql://"])
def test_common_postgresql_url_spellings_run_the_app(postgres_url, scheme):
    url = postgres_url.replace("postgresql+psycopg://", scheme, 1)
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": url})
    try:
        with app.app_context():
            promo = app.extensions["promo"]
            assert promo.engine.dialect.driver == "psycopg"
            promo.create_all()
        status, answer = call(app.test_client(), "attach", {"token": "nope"})
        assert (status, answer["error_text"]) == (401, "Invalid API token")
    finally:
        with app.app_context():
            for engine in app.extensions["promo"].db.engines.values():
                engine.dispose()
