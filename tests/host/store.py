"""Run the README's store (its embedding section, exactly as written) as a user would."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## Embed it in a Flask store"


def readme_blocks() -> tuple[str, list[str]]:
    """Return the section's Python block and the `flask` lines of its shell block."""
    text = (ROOT / "README.md").read_text()
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    python = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    shell = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    commands = [
        line.split("#", 1)[0].strip() for line in shell.splitlines() if line.startswith("flask ")
    ]
    return python, commands


def store_env(database_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PROMO_")}
    env.update(
        SECRET_KEY="store-secret",
        DATABASE_URL=database_url,
        PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]),
    )
    return env


def flask(folder: Path, database_url: str, command: str) -> subprocess.CompletedProcess:
    """Run `flask …` (a line of the README) in the store's folder; fail on a non-zero exit."""
    args = command.split()
    assert args[0] == "flask", command
    result = subprocess.run(
        [sys.executable, "-m", "flask", *args[1:]],
        cwd=folder,
        env=store_env(database_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


def load_store(folder: Path, database_url: str, monkeypatch):
    """Import the store module written in `folder`, as `flask --app store` does."""
    for key, value in store_env(database_url).items():
        if key != "PYTHONPATH":
            monkeypatch.setenv(key, value)
    name = f"store_{abs(hash(str(folder)))}"
    spec = importlib.util.spec_from_file_location(name, folder / "store.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
