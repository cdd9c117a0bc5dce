"""The merchant's page through Flask's test client, with CSRF on as in production."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import create_engine, delete, func, inspect, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from promo_app import PromoCodes, create_app
from promo_app.db.migrate import upgrade
from promo_app.importing.batches import import_codes
from promo_app.importing.report import ImportLine
from promo_app.models import AdminUser, Attachment, LoyaltyProgram, PromoCode
from promo_app.profiles import add_profile
from promo_app.times import utcnow
from promo_app.tokens import create_token
from tests.helpers import ADMIN, PASSWORD, call


def csrf_token(html: str) -> str:
    """Read the CSRF token of the page's form, as a browser would send it back."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def counts(html: str) -> dict[str, int]:
    """Read the numbers a page shows, by the name of what they count."""
    return {
        name: int(value.replace(",", ""))
        for name, value in re.findall(r'data-count="(\w+)">([\d,]+)<', html)
    }


def codes_listed(html: str) -> list[str]:
    return re.findall(r'<td class="promo-code">([^<]*)</td>', html)


def sign_in(client, name: str = "boss", password: str = PASSWORD):
    form = client.get("/admin/login")
    return client.post(
        "/admin/login",
        data={"csrf_token": csrf_token(form.text), "name": name, "password": password},
    )


@pytest.fixture
def signed_in(client, admin):
    response = sign_in(client)
    assert response.status_code == 302
    return client


@pytest.fixture
def program_id(session) -> int:
    program = LoyaltyProgram(name="Welcome", universal=False)
    session.add(program)
    session.commit()
    return program.id


def code_count(session, loyalty_id: int) -> int:
    session.rollback()
    return session.scalar(
        select(func.count()).select_from(PromoCode).where(PromoCode.loyalty_id == loyalty_id)
    )


def upload(client, loyalty_id: int, content: bytes, filename: str = "codes.txt"):
    """Send a file through the upload form; an accepted one is followed to its report."""
    response = send_file(client, loyalty_id, content, filename)
    return finished_upload(client, response) if response.status_code == 303 else response


def send_file(client, loyalty_id: int, content: bytes, filename: str = "codes.txt"):
    """Post a file to the upload form, as a browser does; return the answer."""
    form = client.get(f"/admin/programs/{loyalty_id}/upload")
    # Encoded here, in memory: the test client would spool a large body to a temporary
    # file that nothing closes (werkzeug 3.1).
    boundary, body = encode_multipart(
        {"csrf_token": csrf_token(form.text), "file": FileStorage(io.BytesIO(content), filename)}
    )
    return client.post(
        f"/admin/programs/{loyalty_id}/upload",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def finished_upload(client, accepted, timeout: float = 60):
    """Follow an accepted upload to its job's page once the job has ended, polling its state
    as the page's script does; return the page."""
    assert accepted.status_code == 303, accepted.text
    job_url = accepted.location
    deadline = time.monotonic() + timeout
    while not (state := client.get(f"{job_url}.json").json)["finished"]:
        assert time.monotonic() < deadline, f"the upload job did not end: {state}"
        time.sleep(0.05)
    return client.get(job_url)


def problems(html: str) -> list[tuple[int, str, str]]:
    """Read the report's table of lines not added: (line, code, outcome)."""
    return [
        (int(line), code, outcome)
        for line, code, outcome in re.findall(
            r'<td class="promo-num">(\d+)</td>\s*<td class="promo-code">([^<]*)</td>\s*'
            r'<td><span class="promo-status promo-status-\w+">(\w+)</span>',
            html,
        )
    ]


# Signing in ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/admin/"),
        ("get", "/admin/programs/1"),
        ("get", "/admin/programs/1/upload"),
        ("get", "/admin/programs/1/export.csv"),
        ("post", "/admin/"),
    ],
)
def test_every_screen_asks_to_sign_in_first(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 302
    assert response.location.startswith("/admin/login?next=")


def test_standalone_root_leads_to_the_page(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.location == "/admin/"


def test_sign_in_with_wrong_password_is_refused(client, admin):
    response = sign_in(client, password="wrong password")
    assert response.status_code == 401
    assert "Wrong name or password." in response.text
    assert client.get("/admin/").status_code == 302
    assert sign_in(client, name="nobody").status_code == 401


def test_sign_in_returns_to_the_page_asked_for_and_sign_out_ends_it(client, admin, program_id):
    asked = client.get(f"/admin/programs/{program_id}?status=free")
    form = client.get(asked.location)
    response = client.post(
        asked.location,
        data={"csrf_token": csrf_token(form.text), "name": "boss", "password": PASSWORD},
    )
    assert response.location == f"/admin/programs/{program_id}?status=free"
    page = client.get("/admin/")
    assert "Signed in as <strong>boss</strong>" in page.text
    response = client.post("/admin/logout", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 302


def test_sign_in_never_sends_to_another_site(client, admin):
    form = client.get("/admin/login")
    response = client.post(
        "/admin/login?next=//evil.example/",
        data={"csrf_token": csrf_token(form.text), "name": "boss", "password": PASSWORD},
    )
    assert response.location == "/admin/"


def test_create_admin_stores_only_a_hash(runner, session):
    result = runner.invoke(args=["promo", "create-admin", "ann"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Created admin 'ann'" in result.output
    stored = session.scalar(select(AdminUser).where(AdminUser.name == "ann"))
    assert PASSWORD not in stored.password_hash
    assert stored.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_create_admin_asks_twice_and_rejects_short_passwords(runner, session):
    mismatch = runner.invoke(args=["promo", "create-admin", "ann"], input="one-password\nother\n")
    assert "do not match" in mismatch.output.lower()
    short = runner.invoke(args=["promo", "create-admin", "ann", "--password", "short"])
    assert short.exit_code == 1
    assert "at least 8 characters" in short.output
    assert session.scalar(select(func.count()).select_from(AdminUser)) == 0


def test_create_admin_again_sets_a_new_password(runner, client, admin):
    result = runner.invoke(args=["promo", "create-admin", "boss", "--password", "another one!"])
    assert "Set a new password for admin 'boss'" in result.output
    assert sign_in(client).status_code == 401
    assert sign_in(client, password="another one!").status_code == 302


def test_a_deleted_admin_is_signed_out(signed_in, session):
    session.execute(delete(AdminUser))
    session.commit()
    assert signed_in.get("/admin/").status_code == 302


def test_a_new_secret_key_signs_everyone_out_and_an_old_one_kept_as_fallback_does_not(
    app, signed_in
):
    assert signed_in.get("/admin/").status_code == 200
    old_key = app.secret_key
    app.secret_key = "a-new-secret-key"
    assert signed_in.get("/admin/").status_code == 302
    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    assert signed_in.get("/admin/").status_code == 200


# CSRF ----------------------------------------------------------------------------------


def test_sign_in_without_csrf_token_is_refused(client, admin):
    response = client.post("/admin/login", data={"name": "boss", "password": PASSWORD})
    assert response.status_code == 400
    assert "did not come from this page" in response.text
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize("token", [None, "forged", "take-from-another-session"])
def test_create_program_without_a_valid_csrf_token_creates_nothing(
    signed_in, app, admin, session, token
):
    if token == "take-from-another-session":
        other = app.test_client()
        sign_in(other)
        token = csrf_token(other.get("/admin/").text)
    data = {"name": "Sneaky", "kind": "personal"}
    if token:
        data["csrf_token"] = token
    response = signed_in.post("/admin/", data=data)
    assert response.status_code == 400
    assert "did not come from this page" in response.text
    assert session.scalar(select(func.count()).select_from(LoyaltyProgram)) == 0


def test_upload_without_csrf_token_imports_nothing(signed_in, session, program_id):
    response = signed_in.post(
        f"/admin/programs/{program_id}/upload",
        data={"file": (io.BytesIO(b"A\nB\n"), "codes.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "did not come from this page" in response.text
    assert code_count(session, program_id) == 0


def test_sign_out_without_csrf_token_keeps_the_session(signed_in):
    response = signed_in.post("/admin/logout")
    assert response.status_code == 400
    assert signed_in.get("/admin/").status_code == 200


def test_the_api_needs_no_csrf_token(client, shop):
    status, envelope = call(
        client,
        "attach",
        {
            "token": shop.token,
            "db_id": shop.db_id,
            "loyalty_id": shop.personal_id,
            "email": "bob@example.com",
        },
        fmt="form",
    )
    assert (status, envelope["error"]) == (200, 0)


# Programs --------------------------------------------------------------------------------


def test_create_program_from_the_page(signed_in, session):
    page = signed_in.get("/admin/")
    assert "No loyalty programs yet" in page.text
    response = signed_in.post(
        "/admin/",
        data={"csrf_token": csrf_token(page.text), "name": "  Summer  ", "kind": "universal"},
    )
    assert response.status_code == 302
    program = session.scalar(select(LoyaltyProgram))
    assert (program.name, program.universal) == ("Summer", True)
    assert response.location == f"/admin/programs/{program.id}"
    shown = signed_in.get(response.location)
    assert "Created the loyalty program &#39;Summer&#39;" in shown.text


def test_create_program_for_a_database_from_the_page(signed_in, session):
    from promo_app.models import Database

    session.add_all([Database(name="Shop A"), Database(name="Shop B")])
    session.commit()
    page = signed_in.get("/admin/")
    assert "Shop B (db_id 2)" in page.text and "no database" in page.text
    response = signed_in.post(
        "/admin/",
        data={
            "csrf_token": csrf_token(page.text),
            "name": "B sale",
            "kind": "personal",
            "db_id": "2",
        },
    )
    assert response.status_code == 302
    program = session.scalar(select(LoyaltyProgram))
    assert (program.name, program.db_id) == ("B sale", 2)
    # A database that is not offered is refused, and nothing is made.
    response = signed_in.post(
        "/admin/", data={"csrf_token": csrf_token(page.text), "name": "X", "db_id": "99"}
    )
    assert response.status_code == 400
    assert session.scalar(select(func.count()).select_from(LoyaltyProgram)) == 1


def test_create_program_without_name_shows_the_form_again(signed_in, session):
    page = signed_in.get("/admin/")
    response = signed_in.post("/admin/", data={"csrf_token": csrf_token(page.text), "name": " "})
    assert response.status_code == 400
    assert "This field is required." in response.text
    assert session.scalar(select(func.count()).select_from(LoyaltyProgram)) == 0


@pytest.fixture
def mixed(session):
    """A personal program with codes in every status, and a universal one."""
    database_program = LoyaltyProgram(name="Mixed", universal=False)
    universal = LoyaltyProgram(name="Everyone", universal=True)
    session.add_all([database_program, universal])
    session.flush()
    from promo_app.models import Database

    database = Database(name="Shop")
    session.add(database)
    session.flush()
    alice = add_profile(session, database, email="alice@example.com")
    bob = add_profile(session, database, phone="+79000000002")
    now = utcnow()
    past, future = now - timedelta(days=1), now + timedelta(days=30)
    lines = [ImportLine(n, f"FREE-{n}") for n in range(1, 6)]
    lines += [ImportLine(10, "OLD-1", expire_date=past), ImportLine(11, "OLD-2", expire_date=past)]
    lines += [ImportLine(12, "LATER", expire_date=future)]
    lines += [ImportLine(13, "GIVEN"), ImportLine(14, "USED"), ImportLine(15, "GIVEN-OLD")]
    import_codes(session, database_program, lines)
    import_codes(session, universal, [ImportLine(1, "ALL"), ImportLine(2, "NOBODY")])
    session.flush()
    codes = {c.code: c for c in session.scalars(select(PromoCode))}
    for name, profile in (("GIVEN", alice), ("USED", bob), ("GIVEN-OLD", alice)):
        codes[name].free = False
        session.add(Attachment(code_id=codes[name].id, profile_pk=profile.id, personal=True))
    codes["USED"].activated = now
    codes["GIVEN-OLD"].expire_date = past
    for profile in (alice, bob):
        session.add(Attachment(code_id=codes["ALL"].id, profile_pk=profile.id, personal=False))
    session.commit()
    return {"personal": database_program.id, "universal": universal.id, "bob": bob.profile_id}


def test_programs_show_counts_by_status(signed_in, mixed):
    page = signed_in.get("/admin/").text
    rows = re.findall(r'<tr data-loyalty-id="(\d+)">(.*?)</tr>', page, re.S)
    shown = {int(loyalty_id): counts(row) for loyalty_id, row in rows}
    assert shown[mixed["personal"]] == {
        "total": 11,
        "free": 6,  # FREE-1..5 and LATER
        "attached": 2,  # GIVEN, and GIVEN-OLD although it has expired since
        "activated": 1,
        "expired": 2,  # OLD-1, OLD-2: never given out
        "voided": 0,
    }
    assert shown[mixed["universal"]] == {
        "total": 2,
        "free": 1,
        "attached": 1,
        "activated": 0,
        "expired": 0,
        "voided": 0,
    }


def test_programs_warn_when_free_codes_run_low_or_out(signed_in, app, mixed, session):
    page = signed_in.get("/admin/").text
    assert "Only 6 free codes left (warning below 100)." in page
    app.config["PROMO_LOW_CODES_THRESHOLD"] = 5
    assert "free codes left" not in signed_in.get("/admin/").text
    session.execute(PromoCode.__table__.update().values(free=False))
    session.commit()
    page = signed_in.get(f"/admin/programs/{mixed['personal']}").text
    assert "No free codes left" in page


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("", ["GIVEN-OLD", "USED", "GIVEN", "LATER", "OLD-2", "OLD-1"]),
        ("free", ["LATER", "FREE-5", "FREE-4", "FREE-3", "FREE-2", "FREE-1"]),
        ("attached", ["GIVEN-OLD", "GIVEN"]),
        ("activated", ["USED"]),
        ("expired", ["OLD-2", "OLD-1"]),
    ],
)
def test_program_lists_codes_newest_first_by_status(signed_in, app, mixed, status, expected):
    app.config["PROMO_PAGE_SIZE"] = 6
    page = signed_in.get(f"/admin/programs/{mixed['personal']}?status={status}").text
    assert codes_listed(page) == expected


def test_program_shows_who_has_a_code_and_when(signed_in, mixed):
    page = signed_in.get(f"/admin/programs/{mixed['personal']}?status=activated").text
    row = re.search(r"<tr>\s*<td class=\"promo-code\">USED</td>(.*?)</tr>", page, re.S).group(1)
    assert mixed["bob"] in row  # bob has no email: his profile_id
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", row)
    universal = signed_in.get(f"/admin/programs/{mixed['universal']}").text
    assert "2 profiles" in universal


@pytest.fixture
def many(session, program_id) -> int:
    lines = [ImportLine(n, f"C{n:03d}") for n in range(1, 121)]
    lines += [ImportLine(200, "50%_off"), ImportLine(201, "50AB"), ImportLine(202, "c001")]
    import_codes(session, session.get(LoyaltyProgram, program_id), lines)
    session.commit()
    return program_id


def test_search_by_prefix_is_exact_and_takes_wildcards_literally(signed_in, many):
    def search(prefix: str) -> list[str]:
        return codes_listed(
            signed_in.get(f"/admin/programs/{many}", query_string={"q": prefix}).text
        )

    assert search("C11") == [f"C11{n}" for n in range(9, -1, -1)]
    assert search("50%_") == ["50%_off"]
    assert search("50%") == ["50%_off"]
    assert search("5_") == []
    assert search("c0") == ["c001"]  # case is kept and compared exactly
    assert search("' OR 1=1 --") == []
    assert search("C\x00") == []
    assert search("C\x07D") == []


def test_pages_go_older_and_back_newer_by_key(signed_in, app, many):
    app.config["PROMO_PAGE_SIZE"] = 50
    first = signed_in.get(f"/admin/programs/{many}?q=C").text
    assert codes_listed(first) == [f"C{n:03d}" for n in range(120, 70, -1)]
    assert "Newer" not in first
    older = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "before=" in older and "offset" not in older
    second = signed_in.get(older).text
    assert codes_listed(second) == [f"C{n:03d}" for n in range(70, 20, -1)]
    third = signed_in.get(
        re.search(r'rel="next" href="([^"]+)"', second).group(1).replace("&amp;", "&")
    ).text
    assert codes_listed(third) == [f"C{n:03d}" for n in range(20, 0, -1)]
    assert "Older" not in third
    back = re.search(r'rel="prev" href="([^"]+)"', third).group(1).replace("&amp;", "&")
    assert "after=" in back
    assert codes_listed(signed_in.get(back).text) == codes_listed(second)


@pytest.mark.parametrize(
    "query",
    ["before=abc", "after=-1", "before=%C2%B2", "before=99999999999999999999999", "status=nope"],
)
def test_odd_list_parameters_are_ignored(signed_in, many, query):
    response = signed_in.get(f"/admin/programs/{many}?{query}")
    assert response.status_code == 200
    assert len(codes_listed(response.text)) == 50


def test_unknown_program_is_404(signed_in):
    for path in (
        "/admin/programs/99",
        "/admin/programs/99/upload",
        "/admin/programs/99/export.csv",
    ):
        response = signed_in.get(path)
        assert response.status_code == 404
        assert "There is no loyalty program with this id." in response.text


# Uploading ------------------------------------------------------------------------------


def stored_codes(session, loyalty_id: int) -> dict[str, datetime | None]:
    session.rollback()
    return dict(
        session.execute(
            select(PromoCode.code, PromoCode.expire_date).where(PromoCode.loyalty_id == loyalty_id)
        ).all()
    )


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (b"A1\nB2\nC3\n", "codes.txt"),
        (b"\xef\xbb\xbfA1\r\nB2\r\nC3\r\n", "codes.txt"),  # BOM and CRLF
        (b"\n\nA1\n  \n\r\nB2\nC3", "codes.TXT"),  # blank lines, no final line end
        (b"\xef\xbb\xbfcode\r\nA1\r\nB2\r\n\r\nC3\r\n", "codes.csv"),
    ],
)
def test_upload_reads_txt_and_csv_in_any_line_ending(
    signed_in, session, program_id, content, filename
):
    response = upload(signed_in, program_id, content, filename)
    assert response.status_code == 200
    assert counts(response.text) == {"inserted": 3, "duplicated": 0, "invalid": 0}
    assert set(stored_codes(session, program_id)) == {"A1", "B2", "C3"}


def test_upload_csv_with_expire_dates(signed_in, session, program_id):
    content = (
        b"Expire_Date,Code,note\n"
        b"2026-12-31,SOON,x\n"
        b"2027-01-01T10:00:00+03:00,LATER,y\n"
        b",NEVER,z\n"
        b"someday,BAD-DATE,w\n"
    )
    response = upload(signed_in, program_id, content, "codes.csv")
    assert counts(response.text) == {"inserted": 3, "duplicated": 0, "invalid": 1}
    assert problems(response.text) == [(5, "BAD-DATE", "invalid")]
    assert "Not a date: &#39;someday&#39;" in response.text
    assert stored_codes(session, program_id) == {
        "SOON": datetime(2026, 12, 31, 23, 59, 59),
        "LATER": datetime(2027, 1, 1, 7, 0, 0),
        "NEVER": None,
    }


def test_upload_reports_duplicates_and_invalid_lines_with_line_numbers(
    signed_in, session, program_id
):
    import_codes(session, session.get(LoyaltyProgram, program_id), [ImportLine(1, "OLD")])
    session.commit()
    too_long = "X" * 256
    content = f"NEW-1\nOLD\nNEW-2\n\nNEW-1\nBAD\x07CODE\n{too_long}\n  NEW-3  \n".encode()
    response = upload(signed_in, program_id, content)
    assert counts(response.text) == {"inserted": 3, "duplicated": 2, "invalid": 2}
    assert problems(response.text) == [
        (2, "OLD", "duplicated"),
        (5, "NEW-1", "duplicated"),
        (6, "BAD\\x07CODE", "invalid"),  # shown with the control character visible
        (7, too_long, "invalid"),
    ]
    assert "Already in the loyalty program." in response.text
    assert "Duplicated earlier in this import." in response.text
    assert set(stored_codes(session, program_id)) == {"OLD", "NEW-1", "NEW-2", "NEW-3"}


def test_upload_lists_the_first_100_problems_and_counts_all(signed_in, program_id):
    content = b"".join(b"SAME\n" for _ in range(250))
    response = upload(signed_in, program_id, content)
    assert counts(response.text) == {"inserted": 1, "duplicated": 249, "invalid": 0}
    assert len(problems(response.text)) == 100
    assert "(the first 100 of 249)" in response.text


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        ("GOOD\nCAFÉ\n".encode("latin-1"), "codes.txt", "The file is not UTF-8 text (near line 2)"),
        (
            "code\nGOOD\n\u041c\u0418\u0420\n".encode("cp1251"),
            "codes.csv",
            "not UTF-8 text (near line 3)",
        ),
        (b"GOOD\n" * 20_000 + b"\xff\n", "codes.txt", "near line 20001"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 100, "codes.txt", "binary file"),
        ("GOOD\nCODE\n".encode("utf-16"), "codes.txt", "binary file"),
        (b"GOOD\nOTHER\n", "codes.xlsx", "Upload a .txt or a .csv file."),
        (b"name,value\nGOOD,1\n", "codes.csv", "no &#39;code&#39; column"),
    ],
)
def test_upload_of_a_file_that_is_not_codes_changes_nothing(
    signed_in, session, program_id, content, filename, message
):
    response = upload(signed_in, program_id, content, filename)
    assert response.status_code == 400
    assert message in response.text
    assert code_count(session, program_id) == 0


def test_upload_without_a_file_asks_for_one(signed_in, session, program_id):
    form = signed_in.get(f"/admin/programs/{program_id}/upload")
    response = signed_in.post(
        f"/admin/programs/{program_id}/upload",
        data={"csrf_token": csrf_token(form.text)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "Choose a file to upload." in response.text


def test_upload_over_the_limit_is_refused_and_changes_nothing(signed_in, app, session, program_id):
    app.config["PROMO_MAX_UPLOAD_BYTES"] = 10_000
    page = signed_in.get(f"/admin/programs/{program_id}/upload").text
    assert 'data-max-bytes="10000"' in page  # the browser refuses it before sending, too
    content = b"".join(b"CODE-%06d\n" % n for n in range(2000))
    response = upload(signed_in, program_id, content)
    assert response.status_code == 413
    assert "The file is larger than the limit of" in response.text
    assert "Nothing was imported." in response.text
    assert code_count(session, program_id) == 0
    # The same form takes a file under the limit.
    assert upload(signed_in, program_id, b"SMALL\n").status_code == 200
    assert code_count(session, program_id) == 1


def test_upload_limit_leaves_the_api_limit_alone(app, client, shop):
    app.config["PROMO_MAX_UPLOAD_BYTES"] = 10
    status, envelope = call(
        client,
        "attach",
        {
            "token": shop.token,
            "db_id": shop.db_id,
            "loyalty_id": shop.personal_id,
            "email": "bob@example.com",
        },
    )
    assert (status, envelope["error"]) == (200, 0)


def test_upload_of_a_csv_with_an_unclosed_quote_keeps_what_was_read(signed_in, session, program_id):
    # The quote is never closed: its field runs over many lines, up to the CSV field limit.
    content = b'code\nA1\nB2\n"C3\n' + (b"x" * 1000 + b"\n") * 140
    response = upload(signed_in, program_id, content, "codes.csv")
    assert response.status_code == 200
    assert "the CSV is malformed" in response.text
    assert "field larger than field limit" in response.text
    assert counts(response.text)["inserted"] == code_count(session, program_id)


# Exporting ------------------------------------------------------------------------------


def export_rows(client, loyalty_id: int, query: str = "") -> list[dict[str, str]]:
    response = client.get(f"/admin/programs/{loyalty_id}/export.csv?{query}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.is_streamed
    assert "attachment;" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert reader.fieldnames == [
        "code",
        "status",
        "profile",
        "attached",
        "activated",
        "expire_date",
    ]
    return list(reader)


def test_export_has_every_code_with_status_and_holder(signed_in, mixed):
    rows = export_rows(signed_in, mixed["personal"])
    assert [row["code"] for row in rows][:3] == ["GIVEN-OLD", "USED", "GIVEN"]
    assert len(rows) == 11
    used = next(row for row in rows if row["code"] == "USED")
    assert used["status"] == "activated"
    assert used["profile"] == mixed["bob"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", used["attached"])
    assert used["activated"] and used["expire_date"] == ""
    given = next(row for row in rows if row["code"] == "GIVEN")
    assert given["profile"] == "alice@example.com"


def test_export_is_filtered_like_the_list(signed_in, mixed):
    assert [row["code"] for row in export_rows(signed_in, mixed["personal"], "status=expired")] == [
        "OLD-2",
        "OLD-1",
    ]
    assert [row["code"] for row in export_rows(signed_in, mixed["personal"], "q=GIVEN")] == [
        "GIVEN-OLD",
        "GIVEN",
    ]
    assert export_rows(signed_in, mixed["personal"], "status=free&q=GIVEN") == []


def test_export_goes_past_one_batch(signed_in, session, program_id):
    lines = (ImportLine(n, f"K{n:05d}") for n in range(1, 2502))
    import_codes(session, session.get(LoyaltyProgram, program_id), lines)
    session.commit()
    rows = export_rows(signed_in, program_id)
    assert [row["code"] for row in rows] == [f"K{n:05d}" for n in range(2501, 0, -1)]


@pytest.mark.parametrize(
    ("code", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+2", "'+1+2"),
        ("-10%", "'-10%"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTAB", "'\tTAB"),
        ("SAFE=1", "SAFE=1"),
    ],
)
def test_export_neutralises_cells_a_spreadsheet_would_run(
    signed_in, session, program_id, code, cell
):
    program = session.get(LoyaltyProgram, program_id)
    # Surrounding white space is trimmed from codes, so a leading tab comes from elsewhere.
    session.add(PromoCode(loyalty_id=program.id, code=code, universal=False, free=True))
    session.commit()
    rows = export_rows(signed_in, program_id)
    assert [row["code"] for row in rows] == [cell]


def test_export_neutralises_a_profile_cell(signed_in, session, program_id):
    from promo_app.models import Database

    database = Database(name="Shop")
    session.add(database)
    session.flush()
    profile = add_profile(session, database, email="=cmd|' /C calc'!A0@example.com")
    import_codes(session, session.get(LoyaltyProgram, program_id), [ImportLine(1, "X")])
    code = session.scalar(select(PromoCode))
    code.free = False
    session.add(Attachment(code_id=code.id, profile_pk=profile.id, personal=True))
    session.commit()
    assert export_rows(signed_in, program_id)[0]["profile"] == "'=cmd|' /C calc'!A0@example.com"


# Embedded in a host app ---------------------------------------------------------------------


def make_host(tmp_path, **config) -> tuple[Flask, SQLAlchemy]:
    host = Flask("shop")
    host.config.update(
        SECRET_KEY="host secret",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'shop.db'}",
        PROMO_URL_PREFIX="/promo",
        **config,
    )
    db = SQLAlchemy()
    db.init_app(host)
    PromoCodes(db).init_app(host)
    with host.app_context():
        host.extensions["promo"].create_all()
    return host, db


@pytest.mark.db_independent  # a host on a SQLite file of its own
def test_embedded_page_lets_in_whom_the_host_authorizes(tmp_path):
    allowed = {"value": False}
    host, db = make_host(tmp_path, PROMO_ADMIN_AUTHORIZE=lambda: allowed["value"])
    client = host.test_client()
    response = client.get("/promo/admin/")
    assert response.status_code == 403
    assert "Not allowed" in response.text
    assert client.get("/promo/admin/login").status_code == 404
    allowed["value"] = True
    page = client.get("/promo/admin/")
    assert page.status_code == 200
    assert "Sign out" not in page.text  # the host's login is the one in charge
    response = client.post(
        "/promo/admin/", data={"csrf_token": csrf_token(page.text), "name": "Host program"}
    )
    assert response.status_code == 302
    assert response.location.startswith("/promo/admin/programs/")
    response = client.post("/promo/admin/", data={"name": "No token"})
    assert response.status_code == 400
    with host.app_context():
        names = db.session.scalars(select(LoyaltyProgram.name)).all()
    assert names == ["Host program"]


@pytest.mark.db_independent  # a host on a SQLite file of its own
def test_embedded_page_works_in_a_host_that_turns_csrf_off(tmp_path):
    host, db = make_host(tmp_path, PROMO_ADMIN_AUTHORIZE=lambda: True, WTF_CSRF_ENABLED=False)
    client = host.test_client()
    page = client.get("/promo/admin/")
    assert page.status_code == 200
    assert 'name="csrf_token"' not in page.text
    created = client.post("/promo/admin/", data={"name": "No CSRF here"})
    assert created.status_code == 302
    upload_url = created.location.rstrip("/") + "/upload"
    form = client.get(upload_url)
    assert form.status_code == 200
    assert 'type="file"' in form.text
    accepted = client.post(upload_url, data={"file": (io.BytesIO(b"ONE\nTWO\n"), "codes.txt")})
    response = finished_upload(client, accepted)
    assert response.status_code == 200
    assert counts(response.text) == {"inserted": 2, "duplicated": 0, "invalid": 0}
    with host.app_context():
        codes = db.session.scalars(select(PromoCode.code).order_by(PromoCode.code)).all()
    assert codes == ["ONE", "TWO"]


@pytest.mark.db_independent  # a host on a SQLite file of its own
def test_embedded_refusal_can_send_to_the_hosts_login(tmp_path):
    host, _db = make_host(
        tmp_path, PROMO_ADMIN_AUTHORIZE=lambda: False, PROMO_ADMIN_LOGIN_URL="/account/login"
    )
    response = host.test_client().get("/promo/admin/programs/1?status=free")
    assert response.status_code == 302
    assert (
        response.location == "/account/login?next=%2Fpromo%2Fadmin%2Fprograms%2F1%3Fstatus%3Dfree"
    )


@pytest.mark.db_independent  # a host on a SQLite file of its own
def test_embedded_page_keeps_the_hosts_own_pages_and_errors(tmp_path):
    host, _db = make_host(tmp_path, PROMO_ADMIN_AUTHORIZE=lambda: True)

    @host.post("/cart")
    def cart():
        return "cart"

    client = host.test_client()
    assert client.post("/cart").text == "cart"  # no CSRF imposed on the host's forms
    missing = client.get("/nowhere")
    assert missing.status_code == 404
    assert "promo" not in missing.text.lower()


@pytest.mark.db_independent  # a host on a SQLite file of its own
def test_embedded_api_token_works_without_csrf(tmp_path):
    host, db = make_host(tmp_path, PROMO_ADMIN_AUTHORIZE=lambda: False)
    from promo_app.models import Database

    with host.app_context():
        database = Database(name="Shop")
        program = LoyaltyProgram(name="P")
        db.session.add_all([database, program])
        db.session.flush()
        add_profile(db.session, database, email="a@example.com")
        import_codes(db.session, program, [ImportLine(1, "ONE")])
        token = create_token(db.session, "t")
        db.session.commit()
        ids = (database.id, program.id)
    response = host.test_client().post(
        "/promo/api/v1.1/promocodes/attach",
        json={"token": token, "db_id": ids[0], "loyalty_id": ids[1], "email": "a@example.com"},
    )
    assert response.json["data"]["code"] == "ONE"


def test_create_all_adds_the_keyset_index_to_an_existing_database(empty_database_url):
    # A database of an early 0.1.0: made by create_all before the index, no revision recorded.
    engine = create_engine(empty_database_url)
    upgrade(engine, "0001")
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP INDEX ix_promo_code_program")
        connection.exec_driver_sql("DROP TABLE promo_alembic_version")
    old = create_app({"SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with old.app_context():
        assert old.extensions["promo"].create_all().adopted
        old.extensions["promo"].engine.dispose()
    assert "ix_promo_code_program" in {
        index["name"] for index in inspect(engine).get_indexes("promo_code")
    }
    engine.dispose()


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": False}])
def test_the_signed_in_page_works_where_csrf_is_turned_off(client, admin, app_config):
    response = client.post("/admin/login", data={"name": ADMIN, "password": PASSWORD})
    assert response.status_code == 302
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "Sign out" in page.text
    assert client.post("/admin/logout").status_code == 302
    assert client.get("/admin/").status_code == 302  # signed out: back to the sign-in
