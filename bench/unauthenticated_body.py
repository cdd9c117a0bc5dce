"""Worker time of a 1 MiB body sent without a valid token: the worst bodies a stranger can send.

    .venv/bin/python bench/unauthenticated_body.py [--repeat 5]

In process (Flask's test client, SQLite), so the time is the worker's alone: for each body,
the median of `--repeat` requests, with the (invalid) token in the Authorization header and
in the body. A header or query token is checked before the body is read (api/verb.py load);
a token in the body can only be found by reading the body, which is bounded in depth and
element count (api/params.py). Goal: under 50 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from common import OUT, sqlite_url

from promo_app import create_app

MIB = 1 << 20
PATH = "/api/v1.1/promocodes/attach"


def bodies() -> dict[str, tuple[str, bytes]]:
    """The worst 1 MiB bodies of each kind; {token} is where a body token goes."""
    nested = b"<xml><token>{token}</token>" + b"<a>" * (MIB // 8) + b"</a>" * (MIB // 8)
    flat = b"<xml><token>{token}</token>" + b"<a/>" * (MIB // 4 - 10) + b"</xml>"
    codes = b"<xml><token>{token}</token>" + b"<codes>A</codes>" * (MIB // 16 - 4) + b"</xml>"
    json_nested = b'{"token": "{token}", "x": ' + b"[" * (MIB - 40) + b"}"
    json_flat = b'{"token": "{token}", "codes": [' + b'"A",' * (MIB // 4 - 20) + b'"A"]}'
    return {
        "XML nested 128 Ki levels": ("application/xml", nested[:MIB]),
        "XML 256 Ki empty elements": ("application/xml", flat[:MIB]),
        "XML 64 Ki <codes> elements": ("application/xml", codes[:MIB]),
        "JSON nested 1 Mi levels": ("application/json", json_nested[:MIB]),
        "JSON list of 256 Ki codes": ("application/json", json_flat[:MIB]),
    }


def measure(client, content_type: str, body: bytes, where: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        if where == "header":
            data = body.replace(b"{token}", b"")
            headers = {"Authorization": "Bearer not-a-valid-token"}
        else:
            data, headers = body.replace(b"{token}", b"not-a-valid-token")[:MIB], {}
        started = time.perf_counter()
        response = client.post(PATH, data=data, content_type=content_type, headers=headers)
        times.append(time.perf_counter() - started)
        assert response.status_code in (400, 401), response.status_code
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": sqlite_url("unauthenticated.db"), "SECRET_KEY": "b"}
    )
    with app.app_context():
        app.extensions["promo"].create_all()
    client = app.test_client()
    print("| body (1 MiB, no valid token) | token in the header | token in the body |")
    print("| --- | --- | --- |")
    for name, (content_type, body) in bodies().items():
        header = measure(client, content_type, body, "header", args.repeat)
        inside = measure(client, content_type, body, "body", args.repeat)
        print(f"| {name} | {header:.1f} ms | {inside:.1f} ms |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
