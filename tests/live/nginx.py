"""Debian's nginx serving the shipped server block (deploy/nginx-promo.conf) on loopback.

Only what a test machine must differ in is changed: the ports, the certificate (a
self-signed one made here) and where nginx keeps its files. Every directive that shapes
the traffic stays as shipped.
"""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import stop_process
from tests.live.server import ROOT, free_port

SHIPPED = ROOT / "deploy" / "nginx-promo.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SERVER_NAME = "promo.example.com"


def nginx_or_skip() -> str:
    """The nginx binary; missing, the test skips (under CI=true it fails: .ci/run installs it)."""
    if os.path.exists(NGINX):
        return NGINX
    reason = "nginx is not installed (apt-get install nginx)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason + " (CI=true: the nginx tests must not be skipped)")
    pytest.skip(reason)


@dataclass
class Nginx:
    https: str  # base URL of the TLS server
    http_port: int
    https_port: int
    certificate: Path
    folder: Path

    def configuration(self) -> Path:
        return self.folder / "nginx.conf"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    certificate, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(certificate), "-subj", f"/CN={SERVER_NAME}"),
            *("-addext", f"subjectAltName=DNS:{SERVER_NAME},IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    return certificate, key


def configure(folder: Path, upstream_port: int) -> Nginx:
    """Write an nginx.conf around the shipped server block, for loopback ports."""
    folder.mkdir(parents=True, exist_ok=True)
    certificate, key = make_certificate(folder)
    http_port, https_port = free_port(), free_port()
    block = SHIPPED.read_text()
    replacements = {
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream_port};",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;": "",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen [::]:443 ssl http2;": "",
        f"/etc/letsencrypt/live/{SERVER_NAME}/fullchain.pem": str(certificate),
        f"/etc/letsencrypt/live/{SERVER_NAME}/privkey.pem": str(key),
    }
    for old, new in replacements.items():
        assert old in block, f"{SHIPPED} no longer says {old!r}: update this test"
        block = block.replace(old, new)
    (folder / "promo.conf").write_text(block)
    # As root, nginx's workers would run as nobody, who may not enter pytest's folders.
    user = f"user {getpass.getuser()};" if os.geteuid() == 0 else ""
    temporary = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temporary.values():
        path.mkdir(exist_ok=True)
    (folder / "nginx.conf").write_text(
        f"""{user}
worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {temporary["body"]};
    proxy_temp_path {temporary["proxy"]};
    fastcgi_temp_path {temporary["fastcgi"]};
    uwsgi_temp_path {temporary["uwsgi"]};
    scgi_temp_path {temporary["scgi"]};
    include {folder}/promo.conf;
}}
"""
    )
    return Nginx(f"https://127.0.0.1:{https_port}", http_port, https_port, certificate, folder)


def check_configuration(nginx: Nginx) -> subprocess.CompletedProcess:
    return subprocess.run(
        [nginx_or_skip(), "-t", "-p", str(nginx.folder), "-c", str(nginx.configuration())],
        capture_output=True,
        text=True,
        timeout=30,
    )


@contextmanager
def running(nginx: Nginx) -> Iterator[Nginx]:
    """Run nginx in the foreground on the configuration until the block ends."""
    process = subprocess.Popen(
        [nginx_or_skip(), "-p", str(nginx.folder), "-c", str(nginx.configuration())],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while not (nginx.folder / "nginx.pid").exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((nginx.folder / "error.log").read_text())
            time.sleep(0.05)
        yield nginx
    finally:
        stop_process(process)
