"""The merchant page's rows of the benchmark (bench/run.py runs this in its own process).

    python bench/page.py paging N   # open page 5,000 of a program of N codes vs page 1
    python bench/page.py upload N   # import N codes through the page's upload form

The page comes with issue 3; until it is in the app this prints {"unavailable": why}.
It is found by what it shows, not by its names: a GET route that takes `loyalty_id`
outside the API, its "next" link, and a POST form with a file field. The page is opened
in process (Flask's test client) with PROMO_ADMIN_AUTHORIZE admitting everyone, so the
figures are the server's own cost. Prints one JSON line.
"""

from __future__ import annotations

import html
import json
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import OUT, codes_file, count_codes, make_shop, sqlite_url
from sqlalchemy import select

from promo_app import create_app
from promo_app.models import PromoCode

NEXT_LINK = re.compile(
    r"<a\b[^>]*?(?:rel=\"next\"[^>]*?href=\"([^\"]+)\"|href=\"([^\"]+)\"[^>]*?rel=\"next\")"
    r"|<a\b[^>]*?href=\"([^\"]+)\"[^>]*>\s*(?:Next|Older|More)\b",
    re.IGNORECASE,
)
FILE_INPUT = re.compile(r"<input\b[^>]*type=\"file\"[^>]*>", re.IGNORECASE)
NAME = re.compile(r"name=\"([^\"]+)\"")


def page_app(url: str):
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "PROMO_ADMIN_AUTHORIZE": lambda *args, **kwargs: True,
            "WTF_CSRF_ENABLED": False,
        }
    )


def program_rule(app, method: str, word: str = ""):
    """The shortest route outside the API that takes `loyalty_id` (the program's own page
    rather than its export), with `word` in it."""
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if method in (rule.methods or ())
        and "loyalty_id" in rule.arguments
        and "/api/" not in rule.rule
        and word in rule.rule + rule.endpoint
    ]
    return min(rules, key=lambda rule: len(rule.rule), default=None)


def next_link(page: str) -> str | None:
    match = NEXT_LINK.search(page)
    if match is None:
        return None
    return html.unescape(next(group for group in match.groups() if group))


def paging(codes: int) -> dict:
    if program_rule(page_app(sqlite_url("probe.db")), "GET") is None:
        return {"unavailable": "no page of a program's codes in this app (issue 3)"}
    shop = make_shop(sqlite_url("page.db"), free_codes=codes)
    app = page_app(shop.url)
    rule = program_rule(app, "GET")
    client = app.test_client()
    with app.test_request_context():
        from flask import url_for

        first = url_for(rule.endpoint, loyalty_id=shop.loyalty_id)
    response = client.get(first)
    if response.status_code != 200:
        return {"unavailable": f"GET {first} answered {response.status_code}"}
    # Page 5,000 by the page's own next link: its keyed parameter set to the key that the
    # 4,999th page's link would carry (following 5,000 links costs minutes of counts).
    target, size = 5000, app.config.get("PROMO_PAGE_SIZE", 50)
    link = next_link(response.get_data(as_text=True))
    if link is None:
        return {"unavailable": f"no next link on page 1 of {first}"}
    parts = urlsplit(link)
    query = parse_qsl(parts.query)
    keyed = [name for name, value in query if value.isdigit()]
    with app.app_context():
        session = app.extensions["promo"].db.session
        newest = select(PromoCode.id).where(PromoCode.loyalty_id == shop.loyalty_id)
        newest = newest.order_by(PromoCode.id.desc())
        page_1_last = session.scalar(newest.offset(size - 1).limit(1))
        deep_last = session.scalar(newest.offset((target - 1) * size - 1).limit(1))
        session.close()
    if len(keyed) != 1 or dict(query)[keyed[0]] != str(page_1_last):
        return {"unavailable": f"the next link {link} is not keyed by the last code's id"}
    deep_query = [(name, str(deep_last) if name == keyed[0] else value) for name, value in query]
    url = urlunsplit(parts._replace(query=urlencode(deep_query)))
    expected = f"POOL-{codes - 1 - (target - 1) * size:08d}"
    page = client.get(url)
    if page.status_code != 200 or expected not in page.get_data(as_text=True):
        return {"unavailable": f"{url} answered {page.status_code} without {expected}"}
    timings: dict[str, list[float]] = {first: [], url: []}
    for _ in range(30):
        for each in (first, url):
            started = time.perf_counter()
            assert client.get(each).status_code == 200
            timings[each].append(time.perf_counter() - started)
    page_1, page_n = statistics.median(timings[first]), statistics.median(timings[url])
    return {
        "measured": f"{page_n * 1000:.1f} ms (page {target}: {url})",
        "baseline": f"{page_1 * 1000:.1f} ms (page 1)",
        "ratio": page_n / page_1,
        "note": f"median of 30 each, in process, program of {codes:,} codes",
    }


def upload(codes: int, runs: int) -> dict:
    """Upload `codes` codes through the page's form, against plain sqlite3 of the same rows;
    each `runs` times into new databases, alternating, and the medians compared."""
    if program_rule(page_app(sqlite_url("probe.db")), "POST", "upload") is None:
        return {"unavailable": "no upload form in this app (issue 3)"}
    path = codes_file(codes)
    plain_times, upload_times = [], []
    for _ in range(runs):
        plain = make_shop(sqlite_url("upload-plain.db"), free_codes=0)
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                str(Path(__file__).parent / "baselines" / "plain_import.py"),
                plain.url.removeprefix("sqlite:///"),
                str(path),
                str(plain.import_loyalty_id),
            ],
            check=True,
        )
        plain_times.append(time.perf_counter() - started)
        shop = make_shop(sqlite_url("upload.db"), free_codes=0)
        app = page_app(shop.url)
        rule = program_rule(app, "POST", "upload")
        client = app.test_client()
        with app.test_request_context():
            from flask import url_for

            action = url_for(rule.endpoint, loyalty_id=shop.import_loyalty_id)
        form = client.get(action) if "GET" in (rule.methods or ()) else None
        fields = FILE_INPUT.findall(form.get_data(as_text=True)) if form is not None else []
        field = NAME.search(fields[0]).group(1) if fields else "file"
        started = time.perf_counter()
        with open(path, "rb") as file:
            response = client.post(action, data={field: (file, path.name)})
        if response.status_code == 303:  # an upload job: wait for its end, as its page does
            while not client.get(f"{response.location}.json").get_json()["finished"]:
                time.sleep(0.1)
        upload_times.append(time.perf_counter() - started)
        imported = count_codes(shop.url, shop.import_loyalty_id)
        if imported != codes:
            return {"unavailable": f"upload answered {response.status_code}; {imported} imported"}
        with app.app_context():
            app.extensions["promo"].engine.dispose()
    plain_time, upload_time = statistics.median(plain_times), statistics.median(upload_times)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    runs_note = f"median of {runs} runs each, alternating; " if runs > 1 else ""
    return {
        "measured": f"{codes / upload_time:,.0f} rows/s ({upload_time:.1f} s, peak {peak:.0f} MiB)",
        "baseline": f"{codes / plain_time:,.0f} rows/s ({plain_time:.1f} s) plain sqlite3",
        "ratio": plain_time / upload_time,
        "note": f"{runs_note}in process; the peak includes the test client's copy of the file",
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    which, codes = sys.argv[1], int(sys.argv[2])
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    result = paging(codes) if which == "paging" else upload(codes, runs)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
