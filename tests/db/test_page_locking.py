"""The page's reads never wait for, nor hold, SQLite's write lock: attach calls go on."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from promo_app.importing.batches import import_codes
from promo_app.importing.report import ImportLine
from promo_app.models import LoyaltyProgram


@pytest.fixture
def app_config():
    # Host-decided access keeps sign-in out of the way; a short busy timeout turns a
    # wait for the write lock into a failure the test sees at once.
    return {"PROMO_ADMIN_AUTHORIZE": lambda: True, "PROMO_SQLITE_BUSY_TIMEOUT_MS": 300}


@pytest.fixture
def program_id(app):
    with app.app_context():
        session = app.extensions["promo"].db.session
        program = LoyaltyProgram(name="Welcome")
        session.add(program)
        session.flush()
        import_codes(session, program, [ImportLine(n, f"CODE-{n}") for n in range(120)])
        session.commit()
        return program.id


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/programs/{id}",
        "/admin/programs/{id}?status=free&q=CODE-1",
        "/admin/programs/{id}/upload",
        "/admin/programs/{id}/export.csv",
    ],
)
def test_page_reads_while_another_process_holds_the_write_lock(engine, client, program_id, path):
    with Session(engine) as writer:
        writer.execute(update(LoyaltyProgram).values(name="Renamed"))  # holds the lock
        response = client.get(path.format(id=program_id))
        body = response.get_data(as_text=True)
        writer.rollback()
    assert response.status_code == 200
    assert "Welcome" in body or "CODE-" in body
