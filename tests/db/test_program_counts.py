"""The counts a merchant reads (the page, `list-programs`, `stats`) equal a recount of the
codes after every kind of change, after concurrent attaches, and after an upgrade of a
database that already had codes."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import delete, func, insert, select, true
from sqlalchemy.orm import Session

import promo_app.attach_pg
from promo_app.code_actions import Selection, highest_id, run_action
from promo_app.importing.batches import import_codes
from promo_app.importing.report import ImportLine
from promo_app.inventory import delete_database
from promo_app.models import Attachment, Database, LoyaltyProgram, Profile, ProgramCount, PromoCode
from promo_app.page.queries import program_summaries
from promo_app.page.statuses import STATUSES, status_condition
from promo_app.profiles import add_profile
from promo_app.times import utcnow

from ..conftest import selected_backend
from ..helpers import call
from .test_migrations import load_dump, make_app


def recount(session: Session, now: datetime) -> dict[int, dict[str, int]]:
    """Every program's codes counted one by one, status by status (count(*))."""
    session.rollback()  # a fresh snapshot: what the app committed
    counted = {}
    for program in session.scalars(select(LoyaltyProgram.id).order_by(LoyaltyProgram.id)):
        of_program = PromoCode.loyalty_id == program
        counts = {
            status: session.scalar(
                select(func.count()).where(of_program, status_condition(status, now))
            )
            for status in STATUSES
        }
        counts["total"] = session.scalar(select(func.count()).where(of_program))
        counted[program] = counts
    return counted


def kept(session: Session, now: datetime) -> dict[int, dict[str, int]]:
    """Every program's counts as the page shows them (read from the kept counts)."""
    session.rollback()
    return {
        summary.id: {status: getattr(summary, status) for status in (*STATUSES, "total")}
        for summary in program_summaries(session, now=now)
    }


def assert_honest(session: Session, now: datetime | None = None) -> dict[int, dict[str, int]]:
    now = now or utcnow()
    counts = kept(session, now)
    assert counts == recount(session, now)
    return counts


@pytest.fixture
def api(client, shop):
    def verb(name: str, **params):
        if name in ("attach", "detach"):
            params["db_id"] = shop.db_id
        status, body = call(client, name, {"token": shop.token, **params})
        assert status == 200, body
        return body

    return verb


def act(session: Session, loyalty_id: int, action: str, expire_date: datetime | None = None):
    selection = Selection(loyalty_id, true(), highest_id(session, loyalty_id), expire_date)
    return sum(run_action(session, selection, action))


def test_counts_equal_a_recount_after_every_kind_of_change(session, shop, api, runner):
    personal, universal = shop.personal_id, shop.universal_id
    before = assert_honest(session)
    assert before[personal] == {
        "free": 3,
        "attached": 0,
        "activated": 0,
        "expired": 0,
        "voided": 0,
        "total": 3,
    }
    # Attaches: a pool draw, a named code, a universal code to two customers.
    api("attach", loyalty_id=personal, email="alice@example.com")
    api("attach", loyalty_id=personal, email="bob@example.com", code="FREE-3")
    api("attach", loyalty_id=universal, email="alice@example.com", code="SUMMER")
    api("attach", loyalty_id=universal, email="bob@example.com", code="SUMMER")
    counts = assert_honest(session)
    assert (counts[personal]["attached"], counts[universal]["attached"]) == (2, 1)
    # Activate, update, detach one at a time.
    api("activate", loyalty_id=personal, code="FREE-1")
    api("update", loyalty_id=personal, code="FREE-2", expire_date="2001-01-01")
    api("detach", loyalty_id=universal, email="alice@example.com", code="SUMMER")
    assert assert_honest(session)[universal]["attached"] == 1
    api("detach", loyalty_id=universal, email="bob@example.com", code="SUMMER")
    api("detach", loyalty_id=personal, email="bob@example.com", code="FREE-3")
    counts = assert_honest(session)
    assert counts[universal]["free"] == 1 and counts[personal]["expired"] == 1
    # Imports (the API's and the engine's), generation with an expiry, re-dating.
    api("import", loyalty_id=personal, codes=["NEW-1", "NEW-2", "FREE-1"])
    program = session.get(LoyaltyProgram, universal)
    import_codes(session, program, [ImportLine(n, f"U-{n}") for n in range(1, 6)])
    session.commit()
    generated = ["generate-codes", "--loyalty-id", str(personal), "--count", "40"]
    generated += ["--pattern", "********", "--expire-date", "2099-01-01"]
    result = runner.invoke(args=["promo", *generated])
    assert result.exit_code == 0, result.output
    assert assert_honest(session)[personal]["total"] == 45
    assert runner.invoke(args=["promo", "set-expiry", str(personal), "2001-01-01"]).exit_code == 0
    assert assert_honest(session)[personal]["expired"] == 44
    assert runner.invoke(args=["promo", "set-expiry", str(personal), "never"]).exit_code == 0
    assert_honest(session)
    # The page's actions on a set of codes.
    api("attach", loyalty_id=universal, email="alice@example.com", code="U-1")
    api("attach", loyalty_id=personal, email="bob@example.com")
    for action, expiry in [
        ("expire", None),
        ("clear_expiry", None),
        ("set_expiry", datetime(2099, 1, 1)),
        ("activate", None),
        ("detach", None),
        ("void", None),
    ]:
        changed = act(session, personal, action, expiry) + act(session, universal, action, expiry)
        assert changed > 0, action
        assert_honest(session)
    # Deleting a database (its profiles' attachments go), then a program.
    api("import", loyalty_id=universal, codes=["U-NEW"])
    api("import", loyalty_id=personal, codes=["P-NEW"])
    api("attach", loyalty_id=universal, email="alice@example.com", code="U-NEW")
    api("attach", loyalty_id=personal, email="bob@example.com")
    assert assert_honest(session)[universal]["attached"] == 1
    delete_database(session, shop.db_id)
    session.commit()
    assert_honest(session)
    result = runner.invoke(args=["promo", "delete-program", str(personal), "--yes", "--force"])
    assert result.exit_code == 0, result.output
    counts = assert_honest(session)
    assert personal not in counts
    assert not session.scalars(
        select(ProgramCount).where(ProgramCount.loyalty_id == personal)
    ).all()


def test_a_deleted_program_id_given_again_starts_from_nothing(session, shop, runner):
    # SQLite hands out the largest id again once its row is gone.
    assert (
        runner.invoke(args=["promo", "delete-program", str(shop.empty_id), "--yes"]).exit_code == 0
    )
    program = LoyaltyProgram(name="Again", universal=False)
    session.add(program)
    session.flush()
    import_codes(session, program, [ImportLine(1, "AGAIN-1")])
    session.commit()
    assert assert_honest(session)[program.id]["free"] == 1


def test_a_universal_code_attached_and_detached_many_at_once(session, shop):
    # One statement: PostgreSQL's row triggers would each see the statement's other rows.
    profiles = session.scalars(select(Profile.id).where(Profile.db_id == shop.db_id)).all()
    code = session.scalar(select(PromoCode.id).where(PromoCode.code == "SUMMER"))
    rows = [{"code_id": code, "profile_pk": pk, "personal": False} for pk in profiles]
    session.execute(insert(Attachment).values(rows))
    session.commit()
    assert assert_honest(session)[shop.universal_id]["attached"] == 1
    session.execute(delete(Attachment).where(Attachment.code_id == code))
    session.commit()
    assert assert_honest(session)[shop.universal_id]["free"] == 1


def test_codes_expired_earlier_today_yesterday_or_later(session, shop):
    now = datetime(2030, 6, 15, 12, 0)
    program = session.get(LoyaltyProgram, shop.personal_id)
    expiries = {
        "YESTERDAY": now - timedelta(days=1),
        "THIS-MORNING": now - timedelta(hours=3),
        "JUST-NOW": now,
        "TONIGHT": now + timedelta(hours=11),
        "TOMORROW": now + timedelta(days=1),
    }
    import_codes(session, program, [ImportLine(n, code) for n, code in enumerate(expiries)])
    for code, expiry in expiries.items():
        session.execute(
            PromoCode.__table__.update().where(PromoCode.code == code).values(expire_date=expiry)
        )
    session.commit()
    # The shop's three codes never expire.
    for moment, expired in [
        (now - timedelta(days=2), 0),
        (now - timedelta(hours=3), 2),
        (now, 3),
        (now + timedelta(hours=11, seconds=1), 4),
        (now + timedelta(days=3), 5),
    ]:
        counts = assert_honest(session, moment)[shop.personal_id]
        assert (counts["expired"], counts["free"]) == (expired, 8 - expired)


def test_list_programs_and_stats_read_the_same_counts(session, shop, api, runner):
    api("attach", loyalty_id=shop.personal_id, email="alice@example.com")
    api("activate", loyalty_id=shop.personal_id, code="FREE-1")
    api("update", loyalty_id=shop.personal_id, code="FREE-2", expire_date="2001-01-01")
    listed = json.loads(runner.invoke(args=["promo", "list-programs", "--json"]).output)
    welcome = next(row for row in listed if row["loyalty_id"] == shop.personal_id)
    # Used means given out: the expired code is neither free nor used.
    assert (welcome["codes"], welcome["free"], welcome["attached"]) == (3, 1, 1)
    stats = json.loads(runner.invoke(args=["promo", "stats", "--json"]).output)
    assert next(row for row in stats if row["loyalty_id"] == shop.personal_id)["free"] == 1


@pytest.mark.postgresql_only
def test_concurrent_attaches_and_detaches_keep_the_counts(app, session, shop):
    program = session.get(LoyaltyProgram, shop.personal_id)
    import_codes(session, program, [ImportLine(n, f"POOL-{n}") for n in range(200)])
    shared = session.get(LoyaltyProgram, shop.universal_id)
    import_codes(session, shared, [ImportLine(n, f"SHARED-{n}") for n in range(10)])
    database = session.get(Database, shop.db_id)
    for worker in range(8):
        for n in range(15):
            add_profile(session, database, email=f"w{worker}-{n}@example.com")
    session.commit()
    errors: list[str] = []

    def customer(worker: int) -> None:
        client = app.test_client()
        base = {"token": shop.token, "db_id": shop.db_id}
        for n in range(15):
            email = f"w{worker}-{n}@example.com"
            for params in (
                {"loyalty_id": shop.personal_id},
                # Every worker attaches the same universal codes: first attaches race.
                {"loyalty_id": shop.universal_id, "code": f"SHARED-{n % 10}"},
            ):
                status, body = call(client, "attach", {**base, **params, "email": email})
                if status != 200:
                    errors.append(body.get("error_text", ""))
            if n % 3 == 0:
                # Last detaches of a universal code race with attaches of it.
                params = {"loyalty_id": shop.universal_id, "code": f"SHARED-{n % 10}"}
                status, body = call(client, "detach", {**base, **params, "email": email})
                if status != 200:
                    errors.append(body.get("error_text", ""))

    threads = [threading.Thread(target=customer, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    counts = assert_honest(session)
    assert counts[shop.personal_id]["attached"] == 120
    # The slots spread the writers over rows.
    slots = session.scalar(
        select(func.count(ProgramCount.slot.distinct())).where(
            ProgramCount.loyalty_id == shop.personal_id
        )
    )
    assert slots > 1


def test_an_upgrade_counts_the_codes_already_there(empty_database_url, request):
    load_dump(empty_database_url, selected_backend(request.config))
    app = make_app(empty_database_url)
    result = app.test_cli_runner().invoke(args=["promo", "db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        engine = app.extensions["promo"].engine
    with Session(engine) as session:
        counts = assert_honest(session)
        assert sum(program["total"] for program in counts.values()) == 22
        assert sum(program["attached"] + program["activated"] for program in counts.values())
    engine.dispose()


@pytest.mark.postgresql_only
@pytest.mark.parametrize("program", ["personal_id", "universal_id"])
def test_a_code_the_named_shortcut_creates_counts_as_the_full_path_counts_it(
    session, shop, api, monkeypatch, program
):
    """A new named code made by the one statement (attach_pg_named.py), then one made by
    the full path alone: each adds the same to the counts, and they equal a recount."""
    loyalty_id, made = getattr(shop, program), []
    real = promo_app.attach_pg.try_attach
    monkeypatch.setattr(
        promo_app.attach_pg, "try_attach", lambda *a, **k: made.append(real(*a, **k)) or made[-1]
    )
    steps = [assert_honest(session)[loyalty_id]]
    api("attach", loyalty_id=loyalty_id, email="alice@example.com", code="MADE-IN-ONE")
    assert made[-1] is not None and made[-1].new
    steps.append(assert_honest(session)[loyalty_id])
    monkeypatch.setattr(promo_app.attach_pg, "try_attach", lambda *a, **k: None)
    api("attach", loyalty_id=loyalty_id, email="alice@example.com", code="MADE-BY-FULL-PATH")
    steps.append(assert_honest(session)[loyalty_id])
    added = [{key: after[key] - before[key] for key in after} for before, after in pairwise(steps)]
    assert added[0] == added[1] == {**dict.fromkeys(steps[0], 0), "total": 1, "attached": 1}
