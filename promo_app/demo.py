"""A demo shop, so that a first `make run` has something to attach."""

from __future__ import annotations

import json
import os
import shlex

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .importing.batches import import_codes
from .importing.report import ImportLine
from .models import Database, LoyaltyProgram
from .profiles import add_profile, create_database
from .programs import create_program
from .tokens import create_token

DEMO_PROFILES = [
    {"email": "alice@example.com", "phone": "+7 (900) 000-00-01", "custom": {"card": "1001"}},
    {"email": "bob@example.com", "phone": "+7 (900) 000-00-02", "custom": {"card": "1002"}},
    {"email": "carol@example.com", "phone": "+7 (900) 000-00-03", "custom": {"card": "1003"}},
]
DEMO_CODES = 1000


def token_path() -> str:
    return os.path.join(current_app.instance_path, "demo-token.txt")


def ensure_demo(session: Session, server: str = "http://127.0.0.1:5000") -> list[str]:
    """Create the demo shop if the database is empty; return lines that show how to use it."""
    lines = []
    if session.scalar(select(func.count()).select_from(Database)) == 0:
        database = create_database(session, "Demo shop", ["card"])
        program = create_program(session, "Welcome 10% off", False, database.id)
        for profile in DEMO_PROFILES:
            add_profile(session, database, **profile)
        import_codes(
            session,
            program,
            (ImportLine(n, f"WELCOME-{n:04d}") for n in range(1, DEMO_CODES + 1)),
        )
        secret = create_token(session, "demo")
        session.commit()
        os.makedirs(current_app.instance_path, exist_ok=True)
        descriptor = os.open(token_path(), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secret + "\n")
        lines.append(
            f"Created the demo shop: database {database.id}, loyalty program {program.id} "
            f"with {DEMO_CODES} codes, {len(DEMO_PROFILES)} profiles, and an API token "
            f"(kept in {token_path()})."
        )
    if not os.path.exists(token_path()):
        lines.append(
            "The database is not empty; make a token with: flask --app wsgi promo create-token NAME"
        )
        return lines
    with open(token_path()) as file:
        secret = file.read().strip()
    database_id = session.scalar(select(func.min(Database.id)))
    program_id = session.scalar(select(func.min(LoyaltyProgram.id)))
    body = {
        "token": secret,
        "db_id": database_id,
        "loyalty_id": program_id,
        "email": "alice@example.com",
    }
    prefix = current_app.config["PROMO_URL_PREFIX"].rstrip("/")
    url = f"{server.rstrip('/')}{prefix}/api/v1.1/promocodes/attach"
    lines.append("Attach a code from the pool to alice@example.com:")
    header = "-H 'Content-Type: application/json'"
    lines.append(f"curl -s -X POST {url} {header} -d {shlex.quote(json.dumps(body))}")
    return lines
