"""The standalone app's production settings from the environment: the instance folder,
PROMO_PROXY_FIX, secure cookies and key rotation with SECRET_KEY_FALLBACKS."""

from __future__ import annotations

import pytest
import sqlalchemy.exc
from flask import request

from promo_app import create_app
from tests.page.test_page import PASSWORD, sign_in


@pytest.fixture
def environment(monkeypatch, tmp_path):
    """A clean environment: the app's instance folder and database in tmp_path."""
    monkeypatch.setenv("PROMO_INSTANCE_PATH", str(tmp_path / "state"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'promo.db'}")
    for name in ("SECRET_KEY", "SECRET_KEY_FALLBACKS", "SESSION_COOKIE_SECURE", "PROMO_PROXY_FIX"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def serving(app):
    """Prepare the app's tables and a view that shows what it sees of the request."""
    with app.app_context():
        app.extensions["promo"].create_all()
    app.add_url_rule("/seen", "seen", lambda: {"addr": request.remote_addr, "url": request.url})
    return app


FORWARDED = {
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "promo.example.com",
}


def test_instance_path_from_the_environment_keeps_the_secret_key_there(environment, tmp_path):
    app = create_app()
    assert app.instance_path == str(tmp_path / "state")
    assert (tmp_path / "state" / "secret_key").read_text().strip() == app.secret_key


def test_forwarded_headers_are_ignored_without_proxy_fix(environment):
    client = serving(create_app()).test_client()
    seen = client.get("/seen", headers=FORWARDED).json
    assert seen == {"addr": "127.0.0.1", "url": "http://localhost/seen"}


def test_proxy_fix_trusts_one_proxy(environment):
    environment.setenv("PROMO_PROXY_FIX", "1")
    client = serving(create_app()).test_client()
    seen = client.get("/seen", headers=FORWARDED).json
    assert seen == {"addr": "203.0.113.7", "url": "https://promo.example.com/seen"}
    # A client's own forged header before nginx's is not believed: one proxy, the last value.
    forged = {**FORWARDED, "X-Forwarded-For": "10.6.6.6, 203.0.113.7"}
    assert client.get("/seen", headers=forged).json["addr"] == "203.0.113.7"


def test_secure_cookies_from_the_environment(environment):
    environment.setenv("SECRET_KEY", "one")
    environment.setenv("SESSION_COOKIE_SECURE", "true")
    app = serving(create_app())
    result = app.test_cli_runner().invoke(
        args=["promo", "create-admin", "boss", "--password", PASSWORD]
    )
    assert result.exit_code == 0, result.output
    response = sign_in(app.test_client())
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_a_rotated_key_keeps_signed_in_admins_through_fallbacks(environment):
    environment.setenv("SECRET_KEY", "old key")
    old = serving(create_app())
    result = old.test_cli_runner().invoke(
        args=["promo", "create-admin", "boss", "--password", PASSWORD]
    )
    assert result.exit_code == 0, result.output
    client = old.test_client()
    assert sign_in(client).status_code == 302
    cookie = client.get_cookie("session")

    def page_with_cookie(app) -> int:
        fresh = app.test_client()
        fresh.set_cookie("session", cookie.value)
        return fresh.get("/admin/").status_code

    assert page_with_cookie(old) == 200
    environment.setenv("SECRET_KEY", "new key")
    assert page_with_cookie(create_app()) == 302  # signed with a key it no longer knows
    environment.setenv("SECRET_KEY_FALLBACKS", '["old key"]')
    assert page_with_cookie(create_app()) == 200


def test_engine_options_in_the_instance_config_size_the_promo_pool(environment, tmp_path):
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "config.py").write_text(
        'SQLALCHEMY_ENGINE_OPTIONS = {"pool_size": 2, "max_overflow": 1, "pool_timeout": 0.1}\n'
    )
    app = create_app()
    with app.app_context():
        engine = app.extensions["promo"].engine
        held = [engine.connect() for _ in range(3)]
        with pytest.raises(sqlalchemy.exc.TimeoutError):
            engine.connect()
        for connection in held:
            connection.close()
        engine.dispose()
