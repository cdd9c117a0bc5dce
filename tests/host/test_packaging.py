"""What a store installs: a versioned wheel with the templates, static files and migrations."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

import promo_app
from promo_app.db.migrate import head_revision

ROOT = Path(__file__).resolve().parents[2]


def test_version_changelog_and_license_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" in project["dynamic"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", promo_app.__version__)
    assert f"## [{promo_app.__version__}]" in (ROOT / "CHANGELOG.md").read_text()
    assert project["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def tracked_copy(target: Path) -> Path:
    """Copy the files git tracks (what a clone or an sdist has) to `target`."""
    files = (
        subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.mark.slow
def test_the_wheel_carries_templates_static_files_and_migrations(tmp_path):
    source = tracked_copy(tmp_path / "source")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(tmp_path / "dist"),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    assert wheel.name == f"promo_app-{promo_app.__version__}-py3-none-any.whl"
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in (
        "promo_app/page/templates/promo/base.html",
        "promo_app/page/static/promo/promo.css",
        "promo_app/migrations/env.py",
        "promo_app/migrations/script.py.mako",
        "promo_app/migrations/versions/0001_initial_schema.py",
    ):
        assert name in names
    assert not [name for name in names if "__pycache__" in name or name.startswith("tests/")]

    # Installed from the wheel alone (not this checkout), it migrates a database.
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "app.py").write_text(
        "from promo_app import create_app\napp = create_app()\n"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("PROMO_")}
    env.update(
        PYTHONPATH=str(site),
        DATABASE_URL=f"sqlite:///{tmp_path / 'shop.db'}",
        SECRET_KEY="wheel",
    )
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "promo", "db", "upgrade"],
        cwd=tmp_path / "shop",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f"from an empty database to {head_revision()}." in result.stdout
    assert (
        str(site)
        in subprocess.run(
            [sys.executable, "-c", "import promo_app; print(promo_app.__file__)"],
            cwd=tmp_path / "shop",
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
