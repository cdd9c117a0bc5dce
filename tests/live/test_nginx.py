"""The shipped nginx server block (deploy/nginx-promo.conf) in front of gunicorn on loopback:
nginx -t accepts it, TLS and the redirect work, a 150 MiB upload goes through, and slow
clients are held by nginx, not by gunicorn's workers."""

from __future__ import annotations

import re
import socket
import ssl
import statistics
import threading
import time

import pytest
import requests

from bench.upload_memory import MultipartFile, finished
from tests.live.nginx import check_configuration, configure, nginx_or_skip, running
from tests.live.server import gunicorn
from tests.live.test_upload_live import CSRF, PASSWORD, prepare

pytestmark = [pytest.mark.slow, pytest.mark.sqlite_only]

SLOW_CLIENTS = 50
UPLOAD_MIB = 150
CODE_LENGTH = 250  # long codes: 150 MiB in a few hundred thousand rows


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """gunicorn (2 workers, PROMO_PROXY_FIX=1) behind the shipped nginx block."""
    nginx_or_skip()
    folder = tmp_path_factory.mktemp("stack")
    url = f"sqlite:///{folder / 'promo.db'}"
    shop = prepare(url)
    uploads = str(folder / "uploads")
    with gunicorn(url, workers=2, PROMO_PROXY_FIX="1", PROMO_UPLOAD_FOLDER=uploads) as base:
        port = int(base.rsplit(":", 1)[1])
        nginx = configure(folder / "nginx", port)
        with running(nginx):
            yield nginx, shop, folder


def test_the_shipped_block_passes_nginx_t(tmp_path):
    nginx_or_skip()
    result = check_configuration(configure(tmp_path, 8000))
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_plain_http_is_sent_to_https_and_healthz_answers_over_tls(stack):
    nginx, _shop, _folder = stack
    redirect = requests.get(
        f"http://127.0.0.1:{nginx.http_port}/admin/", allow_redirects=False, timeout=10
    )
    assert redirect.status_code == 301
    assert redirect.headers["Location"] == "https://127.0.0.1/admin/"
    health = requests.get(f"{nginx.https}/healthz", verify=str(nginx.certificate), timeout=10)
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert health.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_a_150_mib_upload_goes_through_nginx(stack):
    nginx, shop, folder = stack
    path = folder / "big.txt"
    lines = UPLOAD_MIB * 1024 * 1024 // (CODE_LENGTH + 1)
    with open(path, "w") as file:
        for n in range(lines):
            file.write(f"{n:0{CODE_LENGTH}d}\n")
    assert path.stat().st_size > 149 * 1024 * 1024
    with requests.Session() as client:
        client.trust_env = False  # REQUESTS_CA_BUNDLE would win over verify
        client.verify = str(nginx.certificate)
        # Over HTTPS (seen through PROMO_PROXY_FIX) the CSRF check wants a same-site Referer,
        # as a browser sends.
        client.headers["Referer"] = f"{nginx.https}/admin/"
        login = client.get(f"{nginx.https}/admin/login").text
        signed_in = client.post(
            f"{nginx.https}/admin/login",
            data={"csrf_token": CSRF.search(login).group(1), "name": "boss", "password": PASSWORD},
        )
        assert signed_in.status_code == 200, signed_in.text
        upload = f"{nginx.https}/admin/programs/{shop['big_id']}/upload"
        form = client.get(upload).text
        body = MultipartFile({"csrf_token": CSRF.search(form).group(1)}, path, "NginxBoundary")
        response = client.post(
            upload,
            data=body,
            headers={"Content-Type": "multipart/form-data; boundary=NginxBoundary"},
            timeout=900,
        )
        assert response.status_code == 200, response.text[:500]
        report = finished(client, response.url, timeout=900)
    inserted = re.search(r'data-count="inserted">([\d,]+)<', report).group(1)
    assert inserted == f"{lines:,}"


def drip(https_port: int, request: bytes, stop: threading.Event, connected: list) -> None:
    """A slow client: TLS, then the request one byte every 2 s, until told to stop."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        raw = socket.create_connection(("127.0.0.1", https_port), timeout=30)
        with raw, context.wrap_socket(raw) as tls:
            connected.append(1)
            for byte in request:
                tls.sendall(bytes([byte]))
                if stop.wait(2):
                    return
    except OSError:
        return  # nginx dropped it (its header timeout): that is what it is for


def p99(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=100)[98]


def attach_latencies(nginx, shop, calls: int) -> list[float]:
    body = {
        "token": shop["token"],
        "db_id": shop["db_id"],
        "loyalty_id": shop["shop_id"],
        "email": "ann@example.com",
    }
    latencies = []
    with requests.Session() as client:
        client.trust_env = False  # REQUESTS_CA_BUNDLE would win over verify
        client.verify = str(nginx.certificate)
        for _ in range(calls):
            began = time.perf_counter()
            response = client.post(f"{nginx.https}/api/v1.1/promocodes/attach", json=body)
            latencies.append(time.perf_counter() - began)
            assert response.status_code == 200, response.text
    return latencies


def test_fifty_slow_clients_do_not_hold_up_attach_calls(stack):
    nginx, shop, _folder = stack
    idle = attach_latencies(nginx, shop, 200)
    head = b"POST /api/v1.1/promocodes/attach HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    slow_headers = head + b"Content-Type: application/json\r\nX-Padding: " + b"x" * 100
    slow_body = head + b"Content-Type: application/json\r\nContent-Length: 200\r\n\r\n" + b"{" * 200
    stop, connected = threading.Event(), []
    clients = [
        threading.Thread(
            target=drip,
            args=(nginx.https_port, slow_headers if n % 2 else slow_body, stop, connected),
        )
        for n in range(SLOW_CLIENTS)
    ]
    for client in clients:
        client.start()
    try:
        deadline = time.monotonic() + 30
        while len(connected) < SLOW_CLIENTS and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(connected) == SLOW_CLIENTS
        time.sleep(2.5)  # every slow client has sent its first bytes
        loaded = attach_latencies(nginx, shop, 200)
    finally:
        stop.set()
        for client in clients:
            client.join()
    print(
        f"\nattach through nginx: idle p99 {p99(idle) * 1000:.1f} ms; with {SLOW_CLIENTS} slow "
        f"clients p99 {p99(loaded) * 1000:.1f} ms (max {max(loaded) * 1000:.1f} ms)"
    )
    assert p99(loaded) <= 10 * p99(idle)
