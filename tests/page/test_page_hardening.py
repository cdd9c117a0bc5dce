"""The page's sign-in and forms under a hostile visitor: no open redirect, no 500, sessions
that end when they should, and the headers that keep the page out of other sites' frames."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import delete, func, select

from promo_app import create_app
from promo_app.models import AdminUser, LoyaltyProgram, PromoCode
from tests.page.test_page import PASSWORD, csrf_token, finished_upload, sign_in


@pytest.fixture
def admin(runner):
    result = runner.invoke(args=["promo", "create-admin", "boss", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    return "boss"


@pytest.fixture
def signed_in(client, admin):
    assert sign_in(client).status_code == 302
    return client


def sign_in_with_next(client, next_: str):
    form = client.get("/admin/login")
    return client.post(
        f"/admin/login?next={next_}",
        data={"csrf_token": csrf_token(form.text), "name": "boss", "password": PASSWORD},
    )


def copied_cookie(app, client):
    """A second browser holding a copy of `client`'s session cookie."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    other = app.test_client()
    other.set_cookie("session", cookie.value)
    return other


# next, parsed as a browser parses it ------------------------------------------------------


@pytest.mark.parametrize(
    "next_",
    [
        "/%09/evil.example",
        "/%0A/evil.example",
        "/%0D%0A/evil.example",
        "%20//evil.example",
        "/%5Cevil.example",
        "%5C%5Cevil.example",
        "https://evil.example/",
        "https:evil.example",
        "//evil.example",
        "/%0A",
        "/%00",
        "javascript:alert(1)",
        "",
    ],
)
def test_sign_in_never_leaves_the_site_and_never_fails(client, admin, next_):
    response = sign_in_with_next(client, next_)
    assert response.status_code == 302
    assert response.location == "/admin/"


@pytest.mark.parametrize(
    "next_", ["/admin/programs/1?status=free", "/admin/programs/1?q=a%2Fb", "/admin/%C3%A9"]
)
def test_sign_in_still_returns_to_a_path_of_the_site(client, admin, next_):
    response = sign_in_with_next(client, next_)
    assert response.status_code == 302
    assert response.location.startswith("/admin/")
    assert response.location != "/admin/"


# Sessions that end --------------------------------------------------------------------------


def test_sign_out_ends_a_copy_of_the_session_cookie(app, signed_in):
    copy = copied_cookie(app, signed_in)
    assert copy.get("/admin/").status_code == 200
    page = signed_in.get("/admin/")
    assert (
        signed_in.post("/admin/logout", data={"csrf_token": csrf_token(page.text)}).status_code
        == 302
    )
    assert copy.get("/admin/").status_code == 302


def test_a_new_password_ends_every_session_of_that_admin(app, runner, signed_in):
    copy = copied_cookie(app, signed_in)
    result = runner.invoke(args=["promo", "create-admin", "boss", "--password", "another one!"])
    assert result.exit_code == 0, result.output
    assert signed_in.get("/admin/").status_code == 302
    assert copy.get("/admin/").status_code == 302


def test_removing_an_admin_ends_its_sessions(app, session, signed_in):
    copy = copied_cookie(app, signed_in)
    session.execute(delete(AdminUser))
    session.commit()
    assert copy.get("/admin/").status_code == 302


def test_signing_in_elsewhere_keeps_the_first_session(app, admin, client):
    assert sign_in(client).status_code == 302
    second = app.test_client()
    assert sign_in(second).status_code == 302
    assert client.get("/admin/").status_code == 200
    assert second.get("/admin/").status_code == 200


# Forms: text every database stores ---------------------------------------------------------


@pytest.mark.parametrize("name", ["bo\x00ss", "\x00"])
def test_a_nul_in_the_sign_in_name_is_a_wrong_name(client, admin, name):
    response = sign_in(client, name=name)
    assert response.status_code in (400, 401)
    assert client.get("/admin/").status_code == 302


def test_a_nul_in_a_new_programs_name_is_refused(signed_in, session):
    page = signed_in.get("/admin/")
    response = signed_in.post(
        "/admin/",
        data={"csrf_token": csrf_token(page.text), "name": "Sale\x00", "kind": "personal"},
    )
    assert response.status_code == 400
    assert "NUL" in response.text
    session.rollback()
    assert session.scalar(select(func.count()).select_from(LoyaltyProgram)) == 0


def test_a_csv_with_an_expire_date_out_of_range_reports_that_line(signed_in, session):
    program = LoyaltyProgram(name="Welcome", universal=False)
    session.add(program)
    session.commit()
    loyalty_id = program.id
    page = signed_in.get(f"/admin/programs/{loyalty_id}/upload")
    text = "code,expire_date\nGOOD,2030-01-01\nFAR,9999-12-31T23:59:59-23:59\n"
    accepted = signed_in.post(
        f"/admin/programs/{loyalty_id}/upload",
        data={"csrf_token": csrf_token(page.text), "file": (io.BytesIO(text.encode()), "c.csv")},
        content_type="multipart/form-data",
    )
    response = finished_upload(signed_in, accepted)
    assert response.status_code == 200
    assert "outside the years 1 to 9999" in response.text
    session.rollback()
    assert session.scalars(select(PromoCode.code)).all() == ["GOOD"]


@pytest.mark.parametrize("loyalty_id", ["9" * 30, "9" * 5000])
def test_a_program_id_of_many_digits_is_not_found(signed_in, loyalty_id):
    assert signed_in.get(f"/admin/programs/{loyalty_id}").status_code == 404


# Headers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/admin/login", "/admin/"])
def test_the_page_forbids_frames_sniffing_and_foreign_scripts(signed_in, path):
    response = signed_in.get(path)
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_api_keeps_its_own_headers(client):
    response = client.post("/api/v1.1/promocodes/attach", json={})
    assert "Content-Security-Policy" not in response.headers


@pytest.mark.parametrize(("value", "secure"), [("true", True), ("false", False)])
def test_secure_session_cookies_can_be_set_from_the_environment(
    monkeypatch, tmp_path, value, secure
):
    monkeypatch.setenv("SESSION_COOKIE_SECURE", value)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("SECRET_KEY", "from the environment")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is secure
    with app.app_context():
        app.extensions["promo"].engine.dispose()


def test_sign_out_in_a_host_that_decides_who_signs_in_is_no_error(tmp_path):
    from tests.page.test_page import make_host

    host, _db = make_host(tmp_path, PROMO_ADMIN_AUTHORIZE=lambda: True)
    client = host.test_client()
    page = client.get("/promo/admin/")
    response = client.post("/promo/admin/logout", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
