"""The history on the page: a code's events on its page, a program's last 50 on the
program's page; and what the merchant does on the page is recorded with their name."""

# ruff: noqa: F811 (the page's fixtures, imported from its main test module)

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from promo_app.models import Event
from tests.helpers import PASSWORD, call
from tests.page.test_code_actions import (
    ask,
    by_code,
    codes,  # noqa: F401
    confirm,
)
from tests.page.test_page import csrf_token, sign_in, signed_in, upload  # noqa: F401


def shown(html: str) -> list[tuple[str, str]]:
    """The history table's rows as the merchant reads them: (what, who)."""
    return re.findall(r'<td class="promo-event-kind">([^<]*)</td>\s*<td>([^<]*)</td>', html)


def recorded(session, *kinds: str) -> list[tuple[str, str, str | None, dict]]:
    query = select(Event).order_by(Event.id)
    if kinds:
        query = query.where(Event.kind.in_(kinds))
    rows = [
        (e.kind, e.actor, e.code, json.loads(e.detail) if e.detail else {})
        for e in session.scalars(query)
    ]
    session.rollback()
    return rows


def test_sign_ins_and_failed_ones_are_recorded_with_the_name_given(client, session, admin):
    assert sign_in(client, password="guess").status_code == 401
    assert sign_in(client, name="nobody", password=PASSWORD).status_code == 401
    assert sign_in(client).status_code == 302

    kinds = ("admin_sign_in_failed", "admin_signed_in")
    assert [(kind, actor) for kind, actor, *_ in recorded(session, *kinds)] == [
        ("admin_sign_in_failed", "boss"),
        ("admin_sign_in_failed", "nobody"),
        ("admin_signed_in", "boss"),
    ]


def test_a_codes_page_shows_its_history_newest_first(signed_in, session, shop, codes):
    params = {"token": shop.token, "db_id": shop.db_id, "loyalty_id": shop.personal_id}
    assert (
        call(signed_in, "attach", {**params, "email": "bob@example.com", "code": "A-3"})[0] == 200
    )
    asked = ask(signed_in, shop, action="expire", code_id=str(codes["A-3"]))
    assert confirm(signed_in, shop, asked.text).status_code == 302

    page = signed_in.get(f"/admin/programs/{shop.personal_id}/codes/{codes['A-3']}").text
    assert "<h2>History</h2>" in page
    assert shown(page) == [("expired", "boss"), ("attached", "shop")]
    assert shop.profiles["bob"] in page
    other = signed_in.get(f"/admin/programs/{shop.personal_id}/codes/{codes['A-4']}").text
    assert shown(other) == [] and "Nothing recorded for this code yet." in other


def test_an_action_on_a_selection_is_one_event_with_its_count(signed_in, session, shop, codes):
    session.execute(delete(Event))
    session.commit()
    asked = ask(signed_in, shop, action="set_expiry", q="A-", expire_date="2031-01-31")
    assert confirm(signed_in, shop, asked.text).status_code == 302

    assert recorded(session) == [
        ("expiry_set", "boss", None, {"count": 6, "expire_date": "2031-01-31T23:59:59Z"})
    ]
    assert by_code(session, shop)  # the codes are still there


def test_upload_export_and_generate_are_recorded(signed_in, session, shop):
    session.execute(delete(Event))
    session.commit()
    program = shop.personal_id
    assert upload(signed_in, program, b"UP-1\nUP-2\nFREE-1\n").status_code == 200
    assert signed_in.get(f"/admin/programs/{program}/export.csv?status=free").status_code == 200
    path = f"/admin/programs/{program}/generate"
    form = {"csrf_token": csrf_token(signed_in.get(path).text), "count": "7"}
    form |= {"pattern": "****-****", "alphabet": "unambiguous"}
    generated = signed_in.post(path, data=form)
    assert "7 of 7" in generated.get_data(as_text=True)  # the stream, read to its end

    assert recorded(session) == [
        (
            "uploaded",
            "boss",
            None,
            {"file": "codes.txt", "inserted": 2, "duplicated": 1, "invalid": 0},
        ),
        ("exported", "boss", None, {"file": f"loyalty-{program}-free-codes.csv", "status": "free"}),
        ("generated", "boss", None, {"pattern": "****-****", "inserted": 7}),
    ]


def test_the_program_page_shows_its_last_50_events_newest_first(signed_in, session, shop):
    start = datetime(2026, 12, 1)
    session.add_all(
        Event(
            at=start + timedelta(minutes=n),
            kind="attached",
            actor=f"till-{n}",
            loyalty_id=shop.personal_id,
            code=f"C-{n}",
        )
        for n in range(60)
    )
    session.add(Event(kind="attached", actor="elsewhere", loyalty_id=shop.universal_id))
    session.commit()

    page = signed_in.get(f"/admin/programs/{shop.personal_id}").text
    assert "<h2>Recent events</h2>" in page
    rows = shown(page)
    assert len(rows) == 50
    assert rows[0] == ("attached", "till-59") and rows[-1] == ("attached", "till-10")
    assert "elsewhere" not in page


def test_a_program_made_on_the_page_shows_who_made_it_on_its_page(signed_in, session):
    page = signed_in.get("/admin/")
    form = {"csrf_token": csrf_token(page.text), "name": "Winter", "kind": "personal"}
    made = signed_in.post("/admin/", data=form)
    assert made.status_code == 302

    assert shown(signed_in.get(made.location).text) == [("program created", "boss")]
    [(_, _, _, detail)] = recorded(session, "program_created")
    assert detail == {"name": "Winter", "universal": False, "one_per_profile": False}
