"""The merchant's page in a real Chromium, driven by Playwright, against a real server.

Screenshots of every screen go to tests/screenshots/ (git-ignored), to be looked at.
Without Chromium or Playwright these tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import threading
import urllib.request
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from promo_app import create_app
from promo_app.importing.batches import import_codes
from promo_app.importing.report import ImportLine
from promo_app.models import Database, LoyaltyProgram
from promo_app.profiles import add_profile
from promo_app.tokens import create_token

# The page on a SQLite file of its own, whatever --db says: run once, in the SQLite pass.
pytestmark = [pytest.mark.slow, pytest.mark.db_independent]

CHROMIUM = os.environ.get("PROMO_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parent.parent / "screenshots"
PASSWORD = "correct horse battery"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -r requirements-dev.txt)"
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def browser():
    missing = _missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the browser tests cannot run: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    executable = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class LiveServer:
    """The standalone app served by werkzeug on a free loopback port, in a thread."""

    def __init__(self, tmp_path: Path, **config: object) -> None:
        self.app = create_app(
            {
                "SECRET_KEY": "browser test",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db",
                "PROMO_UPLOAD_FOLDER": str(tmp_path / "uploads"),
                **config,
            }
        )
        runner = self.app.test_cli_runner()
        result = runner.invoke(args=["promo", "create-admin", "boss", "--password", PASSWORD])
        assert result.exit_code == 0, result.output
        with self.app.app_context():
            session = self.app.extensions["promo"].db.session
            database = Database(name="Shop")
            almost_out = LoyaltyProgram(name="Almost out", universal=False)
            session.add_all([database, almost_out])
            session.flush()
            for name in ("ann", "ben"):
                add_profile(session, database, email=f"{name}@example.com")
            import_codes(session, almost_out, [ImportLine(n, f"LAST-{n}") for n in range(1, 4)])
            self.token = create_token(session, "shop")
            session.commit()
            self.db_id = database.id
            self.almost_out_id = almost_out.id
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def attach(self, loyalty_id: int, email: str, code: str | None = None) -> dict:
        """Attach a code (or, without one, a free code) as a shop would, through the API."""
        params = {"token": self.token, "db_id": self.db_id, "loyalty_id": loyalty_id}
        params.update({"email": email, **({"code": code} if code else {})})
        body = json.dumps(params).encode()
        request = urllib.request.Request(
            f"{self.url}/api/v1.1/promocodes/attach",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(tmp_path):
    server = LiveServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 800}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def counts(page) -> dict[str, int]:
    """Read the numbers on screen, by what they count."""
    return {
        element.get_attribute("data-count"): int(element.inner_text().replace(",", ""))
        for element in page.locator("main [data-count]").all()
    }


def listed_codes(page) -> list[str]:
    return page.locator("td.promo-code").all_inner_texts()


def sign_in(page, url: str) -> None:
    page.goto(url + "/")
    assert "/admin/login" in page.url
    page.fill("#name", "boss")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))


def test_merchant_runs_a_program_in_the_browser(page, live_server, tmp_path):
    url = live_server.url
    page.goto(url + "/")
    page.fill("#name", "boss")
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    assert page.locator(".promo-error").inner_text() == "Wrong name or password."
    shot(page, "01-sign-in-refused")
    sign_in(page, url)
    assert page.locator(".promo-warning").inner_text().startswith("Only 3 free codes left")
    shot(page, "02-programs")

    # Create a program.
    page.fill("#program-name", "Spring sale")
    page.check("input[value=personal]")
    page.click("text=Create program")
    page.wait_for_url(re.compile(r"/admin/programs/\d+$"))
    loyalty_id = int(page.url.rsplit("/", 1)[1])
    assert "Created the loyalty program 'Spring sale'" in page.locator(".promo-flash").inner_text()
    assert counts(page) == {
        "total": 0,
        "free": 0,
        "attached": 0,
        "activated": 0,
        "expired": 0,
        "voided": 0,
    }
    assert page.locator(".promo-warning-empty").is_visible()
    shot(page, "03-program-empty")

    # Upload 150,000 codes with two duplicates and a bad line, slowly enough to see progress.
    lines = [f"SPRING-{n:06d}" for n in range(1, 150_001)]
    lines[10] = "SPRING-000001"  # line 11 repeats line 1
    lines.insert(500, "BAD\tCODE")  # line 501: a control character
    lines.append("SPRING-000002")  # the last line repeats line 2
    upload_file = tmp_path / "spring.txt"
    upload_file.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig")
    page.click("text=Upload codes")
    page.wait_for_url(re.compile(r"/upload$"))
    shot(page, "04-upload-form")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 700_000},
    )
    page.set_input_files("#file", str(upload_file))
    page.click("#upload-form button[type=submit]")
    page.wait_for_function(
        "() => { const bar = document.getElementById('upload-bar');"
        " return bar && bar.value > 5 && bar.value < 95; }"
    )
    assert page.locator("#upload-status").inner_text().startswith("Uploading:")
    shot(page, "05-upload-progress")
    # Once sent, the upload job's page: it follows the import, then shows the report.
    page.wait_for_url(re.compile(rf"/admin/programs/{loyalty_id}/uploads/\d+$"), timeout=60_000)
    job_url = page.url
    page.locator("h1", has_text="Uploaded spring.txt").wait_for(timeout=60_000)
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    assert counts(page) == {"inserted": 149_999, "duplicated": 2, "invalid": 1}
    problem_rows = [
        row.locator("td").all_inner_texts()
        for row in page.locator(".promo-problems tbody tr").all()
    ]
    assert [(line, code, outcome) for line, code, outcome, _why in problem_rows] == [
        ("11", "SPRING-000001", "duplicated"),
        ("501", "BAD\\tCODE", "invalid"),
        ("150002", "SPRING-000002", "duplicated"),
    ]
    shot(page, "06-upload-report")

    # The counts change: first by the upload, then by two attach calls of a shop.
    page.click("text=See the codes")
    uploads = page.locator(".promo-upload-jobs tbody tr")
    assert uploads.count() == 1
    assert uploads.locator("[data-upload-status]").inner_text() == "done"
    assert uploads.locator("a").get_attribute("href") in job_url
    assert counts(page)["total"] == 149_999
    assert counts(page)["free"] == 149_999
    given = [live_server.attach(loyalty_id, f"{name}@example.com") for name in ("ann", "ben")]
    assert [answer["data"]["code"] for answer in given] == ["SPRING-000001", "SPRING-000002"]
    page.reload()
    assert counts(page) == {
        "total": 149_999,
        "free": 149_997,
        "attached": 2,
        "activated": 0,
        "expired": 0,
        "voided": 0,
    }
    assert listed_codes(page)[0] == "SPRING-150000"
    shot(page, "07-program")

    # Filter by status, then search by prefix.
    page.select_option("#status", "attached")
    page.click(".promo-filter button")
    assert listed_codes(page) == ["SPRING-000002", "SPRING-000001"]
    holders = page.locator("table.promo-codes tbody tr td:nth-child(3)").all_inner_texts()
    assert holders == ["ben@example.com", "ann@example.com"]
    shot(page, "08-filtered-attached")
    page.select_option("#status", "")
    page.fill("#q", "SPRING-0999")
    page.click(".promo-filter button")
    assert listed_codes(page) == [f"SPRING-0999{n:02d}" for n in range(99, 49, -1)]

    # Page by key: older, older, then newer again.
    page.click("a[rel=next]")
    assert "before=" in page.url
    assert listed_codes(page) == [f"SPRING-0999{n:02d}" for n in range(49, -1, -1)]
    assert page.locator("a[rel=next]").count() == 0
    shot(page, "09-second-page")
    page.click("a[rel=prev]")
    assert listed_codes(page)[0] == "SPRING-099999"

    # Export what the filter shows.
    page.select_option("#status", "attached")
    page.fill("#q", "")
    page.click(".promo-filter button")
    with page.expect_download() as download_info:
        page.click("#export-link")
    download = download_info.value
    assert download.suggested_filename == f"loyalty-{loyalty_id}-attached-codes.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(), newline="")))
    assert [(row["code"], row["status"], row["profile"]) for row in rows] == [
        ("SPRING-000002", "attached", "ben@example.com"),
        ("SPRING-000001", "attached", "ann@example.com"),
    ]

    # Back on the list of programs: the new one with its counts and bar.
    page.click("text=Loyalty programs")
    row = page.locator(f"tr[data-loyalty-id='{loyalty_id}']")
    assert row.locator("[data-count=free]").inner_text() == "149,997"
    assert row.locator(".promo-bar-attached").count() == 1
    shot(page, "10-programs-after")


def test_upload_refusals_in_the_browser(page, live_server, tmp_path):
    sign_in(page, live_server.url)
    page.click("text=Almost out")
    page.click("text=Upload codes")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("NEW-1\nCAFÉ\n".encode("latin-1"))
    page.set_input_files("#file", str(latin1))
    page.click("#upload-form button[type=submit]")
    error = page.locator("#upload-error")
    error.wait_for()
    assert "not UTF-8 text (near line 2)" in error.inner_text()
    assert "Nothing was imported." in error.inner_text()
    shot(page, "11-upload-not-utf8")

    live_server.app.config["PROMO_MAX_UPLOAD_BYTES"] = 1024
    page.reload()
    big = tmp_path / "big.txt"
    big.write_text("".join(f"BIG-{n:05d}\n" for n in range(500)))
    page.set_input_files("#file", str(big))
    page.click("#upload-form button[type=submit]")
    refusal = page.locator("#upload-client-error")
    assert refusal.inner_text() == (
        "This file is 4.9 KiB, over the limit of 1 KiB. Nothing was uploaded."
    )
    assert page.locator("#upload-progress").is_hidden()
    shot(page, "12-upload-over-limit")
    page.click("text=Almost out")
    assert counts(page)["total"] == 3


def test_upload_works_without_javascript(browser, live_server, tmp_path):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_server.url)
        page.click("text=Almost out")
        page.click("text=Upload codes")
        small = tmp_path / "codes.csv"
        small.write_text("code,expire_date\nNOJS-1,2030-01-01\nLAST-1,\n")
        page.set_input_files("#file", str(small))
        page.click("#upload-form button[type=submit]")
        page.locator("h1", has_text="Uploaded codes.csv").wait_for()
        assert counts(page) == {"inserted": 1, "duplicated": 1, "invalid": 0}
        shot(page, "13-report-without-javascript")
    finally:
        context.close()
