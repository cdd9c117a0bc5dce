"""The page's SQL on PostgreSQL: the tests of test_page.py that query codes, run on a fresh
PostgreSQL database each (PROMO_TEST_POSTGRES_URL, default postgres@127.0.0.1:5432/test).

Skipped when no PostgreSQL answers, except under CI=true, where that fails.
"""

from __future__ import annotations

import os
import secrets

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from promo_app import create_app

from .test_page import (  # noqa: F401  (fixtures and tests, run here on PostgreSQL)
    admin,
    many,
    mixed,
    program_id,
    signed_in,
    test_create_all_adds_the_keyset_index_to_an_existing_database,
    test_create_program_from_the_page,
    test_export_goes_past_one_batch,
    test_export_has_every_code_with_status_and_holder,
    test_export_is_filtered_like_the_list,
    test_export_neutralises_a_profile_cell,
    test_pages_go_older_and_back_newer_by_key,
    test_program_lists_codes_newest_first_by_status,
    test_program_shows_who_has_a_code_and_when,
    test_programs_show_counts_by_status,
    test_programs_warn_when_free_codes_run_low_or_out,
    test_search_by_prefix_is_exact_and_takes_wildcards_literally,
    test_sign_in_returns_to_the_page_asked_for_and_sign_out_ends_it,
    test_upload_csv_with_expire_dates,
    test_upload_of_a_file_that_is_not_codes_changes_nothing,
    test_upload_reads_txt_and_csv_in_any_line_ending,
    test_upload_reports_duplicates_and_invalid_lines_with_line_numbers,
)

SERVER_URL = os.environ.get(
    "PROMO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="module")
def postgres_server():
    engine = create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            pass
    except Exception as error:  # no server, no driver, no access: say which
        engine.dispose()
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and PostgreSQL at {SERVER_URL} does not answer: {error}")
        pytest.skip(f"PostgreSQL at {SERVER_URL} does not answer: {error}")
    yield engine
    engine.dispose()


@pytest.fixture
def database_url(postgres_server):
    """A fresh PostgreSQL database for one test, dropped after it."""
    name = f"promo_page_{secrets.token_hex(6)}"
    with postgres_server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)
    with postgres_server.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.fixture
def app(database_url):
    """The app of conftest.py, whose connections are closed before its database is dropped."""
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": database_url}
    )
    with app.app_context():
        app.extensions["promo"].create_all()
    yield app
    with app.app_context():
        for engine in app.extensions["promo"].db.engines.values():
            engine.dispose()
