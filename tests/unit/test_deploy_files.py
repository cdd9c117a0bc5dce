"""The shipped deployment files: the systemd unit passes systemd-analyze verify, its
EnvironmentFile example configures the app as docs/deploy.md says, and gunicorn.conf.py's
worker timeout fits the largest upload."""

from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from promo_app import create_app
from promo_app.state import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent.parent
DEPLOY = ROOT / "deploy"


def unit_settings(text: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def test_the_systemd_unit_passes_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        reason = "systemd-analyze is not installed (apt-get install systemd)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI=true: it must run)")
        pytest.skip(reason)
    # The paths of docs/deploy.md (/opt/promo, /etc/promo) made real for this checkout, since
    # verify checks that the programs it starts exist.
    text = (DEPLOY / "promo.service").read_text()
    text = text.replace("/opt/promo/.venv", sys.prefix).replace("/opt/promo", str(ROOT))
    text = text.replace("/etc/promo/promo.env", str(DEPLOY / "promo.env.example"))
    unit = tmp_path / "promo.service"
    unit.write_text(text)
    result = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""  # no unknown key, no warning


def test_the_systemd_unit_runs_gunicorn_as_its_own_user_and_restarts_it():
    settings = unit_settings((DEPLOY / "promo.service").read_text())
    assert settings["User"] == ["promo"]
    assert settings["EnvironmentFile"] == ["/etc/promo/promo.env"]
    assert settings["Restart"] == ["on-failure"]
    assert settings["ExecStart"][0].endswith(
        "gunicorn --config gunicorn.conf.py --bind 127.0.0.1:8000"
    )
    assert settings["ExecReload"] == ["/bin/kill -s HUP $MAINPID"]
    nginx = (DEPLOY / "nginx-promo.conf").read_text()
    assert "server 127.0.0.1:8000;" in nginx  # the unit's --bind is nginx's upstream


def test_the_environment_file_example_configures_the_app(monkeypatch, tmp_path):
    for line in (DEPLOY / "promo.env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, value = line.split("=", 1)
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'promo.db'}")
    monkeypatch.setenv("PROMO_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    assert app.config["SECRET_KEY"] == "change-me-to-64-hex-characters"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["PROMO_PROXY_FIX"] == 1
    assert type(app.wsgi_app).__name__ == "ProxyFix"


@pytest.mark.parametrize("upload_bytes", [None, 10 * 1024 * 1024, 1024 * 1024 * 1024])
def test_gunicorn_timeout_fits_the_largest_upload(monkeypatch, upload_bytes):
    if upload_bytes is None:
        monkeypatch.delenv("PROMO_MAX_UPLOAD_BYTES", raising=False)
        upload_bytes = DEFAULTS["PROMO_MAX_UPLOAD_BYTES"]
    else:
        monkeypatch.setenv("PROMO_MAX_UPLOAD_BYTES", str(upload_bytes))
    monkeypatch.delenv("GUNICORN_WORKERS", raising=False)
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    # The slowest upload seen: a million codes (18 MB) in about 80 s.
    assert settings["timeout"] >= max(120, upload_bytes / (18_000_000 / 80))
    assert settings["workers"] == 2 * os.cpu_count() + 1
    assert settings["accesslog"] == "-"
    assert settings["worker_class"] == "sync"
    # nginx must wait longer than gunicorn lets a worker run.
    nginx = (DEPLOY / "nginx-promo.conf").read_text()
    if upload_bytes == DEFAULTS["PROMO_MAX_UPLOAD_BYTES"]:
        read_timeout = int(re.search(r"proxy_read_timeout (\d+)s;", nginx).group(1))
        assert read_timeout > settings["timeout"]
        body_limit = int(re.search(r"client_max_body_size (\d+)m;", nginx).group(1))
        assert body_limit * 1024 * 1024 > upload_bytes


def test_promo_cli_runs_commands_with_the_services_settings(tmp_path):
    if os.geteuid() != 0:
        reason = "deploy/promo-cli switches user with runuser: root only"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI=true: it must run)")
        pytest.skip(reason)
    example = (DEPLOY / "promo.env.example").read_text()
    settings = example.replace(
        "DATABASE_URL=sqlite:////var/lib/promo/promo.db",
        f"DATABASE_URL=sqlite:///{tmp_path / 'service.db'}",
    ).replace("#SECRET_KEY_FALLBACKS=", "SECRET_KEY_FALLBACKS=")
    (tmp_path / "promo.env").write_text(settings)
    environment = {
        **os.environ,
        "PROMO_ENV_FILE": str(tmp_path / "promo.env"),
        "PROMO_HOME": str(ROOT),
        "PROMO_VENV": sys.prefix,
        "PROMO_USER": "root",
        "PROMO_INSTANCE_PATH": str(tmp_path / "state"),
    }

    def promo_cli(*args: str) -> str:
        result = subprocess.run(
            [str(DEPLOY / "promo-cli"), *args],
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert promo_cli("create-program", "Night shift").strip().endswith("1")
    assert '"name": "Night shift"' in promo_cli("list-programs", "--json")
    assert (tmp_path / "service.db").exists()  # the env file's DATABASE_URL
    assert not (tmp_path / "state" / "secret_key").exists()  # its SECRET_KEY, none made
