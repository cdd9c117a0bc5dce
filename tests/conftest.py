"""Fixtures in the manner of flaskr: a fresh app and database per test, a client, a runner."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
import xmltodict

from promo_app import create_app
from promo_app.codes import ImportLine, import_codes
from promo_app.models import CustomField, Database, LoyaltyProgram
from promo_app.profiles import add_profile
from promo_app.tokens import create_token


@pytest.fixture
def database_url(tmp_path) -> str:
    """The URL of a fresh, empty database for one test: a SQLite file."""
    return f"sqlite:///{tmp_path / 'promo.db'}"


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Settings a test module adds to the app's (override this fixture)."""
    return {}


@pytest.fixture
def app(database_url, app_config):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": database_url,
            **app_config,
        }
    )
    with app.app_context():
        app.extensions["promo"].create_all()
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def session(app):
    """A session on the test's database, inside an application context."""
    with app.app_context():
        yield app.extensions["promo"].db.session


@dataclass
class Shop:
    """A database with profiles, programs with codes, and tokens, as a shop would have."""

    db_id: int
    other_db_id: int
    personal_id: int
    universal_id: int
    empty_id: int
    token: str
    limited_token: str
    profiles: dict[str, str]


@pytest.fixture
def shop(app, session) -> Shop:
    database = Database(name="Shop", custom_fields=[CustomField(name="card")])
    other = Database(name="Other shop")
    personal = LoyaltyProgram(name="Welcome", universal=False)
    universal = LoyaltyProgram(name="Summer sale", universal=True)
    empty = LoyaltyProgram(name="Empty", universal=False)
    session.add_all([database, other, personal, universal, empty])
    session.flush()
    people = {
        "alice": add_profile(
            session,
            database,
            email="Alice@Example.com",
            phone="+7 (900) 000-00-01",
            custom={"card": "1001"},
        ),
        "bob": add_profile(session, database, email="bob@example.com", phone="+79000000002"),
        "twin1": add_profile(session, database, email="twin@example.com", custom={"card": "7"}),
        "twin2": add_profile(session, database, email="twin@example.com", custom={"card": "7"}),
        "stranger": add_profile(session, other, email="stranger@example.com"),
    }
    import_codes(session, personal, [ImportLine(n, f"FREE-{n}") for n in range(1, 4)])
    import_codes(session, universal, [ImportLine(1, "SUMMER")])
    token = create_token(session, "shop")
    session.flush()
    limited = create_token(session, "other only", [other.id])
    session.flush()
    # Read every value before the commit: a read after it would begin a new transaction.
    made = Shop(
        db_id=database.id,
        other_db_id=other.id,
        personal_id=personal.id,
        universal_id=universal.id,
        empty_id=empty.id,
        token=token,
        limited_token=limited,
        profiles={name: profile.profile_id for name, profile in people.items()},
    )
    session.commit()
    return made


def call(client, verb: str, params: dict[str, Any], fmt: str = "json", **kwargs: Any):
    """POST `params` to a verb as JSON, XML or a form; return (HTTP status, envelope)."""
    path = f"/api/v1.1/promocodes/{verb}"
    if fmt == "json":
        response = client.post(path, json=params, **kwargs)
    elif fmt == "xml":
        body = xmltodict.unparse({"xml": params})
        response = client.post(path, data=body, content_type="application/xml", **kwargs)
    else:
        response = client.post(path, data=params, **kwargs)
    return response.status_code, parse_envelope(response)


def parse_envelope(response) -> dict[str, Any]:
    """Read an answer as a user's client would, in the format the server chose."""
    if response.mimetype == "application/xml":
        document = xmltodict.parse(response.data, force_list=("field",))["xml"]
        document["error"] = int(document["error"])
        if "errors" in document:
            # <errors><field name="db_id">message</field>...</errors>, as JSON has it
            fields: dict[str, list[str]] = {}
            for field in document["errors"]["field"]:
                fields.setdefault(field["@name"], []).append(field.get("#text", ""))
            document["errors"] = fields
        return document
    assert response.mimetype == "application/json", response.data
    return json.loads(response.data)
