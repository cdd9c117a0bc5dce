"""A PgBouncer in transaction pooling mode in front of the test server, started by the run.

`pytest --db postgresql --pgbouncer` (`make test-pgbouncer`) reaches every test's database
through it, as a shop with several app servers would reach PostgreSQL: Debian's pgbouncer,
on a port the OS gives, with a configuration written for the run, stopped when it ends.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import URL

from tests.helpers import stop_process

# What the run sets in the environment of the processes it starts (gunicorn, the CLI), as a
# shop sets it for its app servers behind PgBouncer (docs/postgresql.md).
SETTING = "PROMO_PGBOUNCER"


def to_server(text: str, reached: URL, server: URL) -> str:
    """`text` (a URL, a command) with PgBouncer's address, if `reached` is one, replaced by
    the server's own."""
    if reached == server:
        return text
    bouncer = f"@{reached.host}:{reached.port}/"
    assert bouncer in text, text
    return text.replace(bouncer, f"@{server.host}:{server.port or 5432}/")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _config(server: URL, port: int, folder: Path) -> str:
    # Every database name goes to the same name on the server (a wildcard): each test makes
    # databases of its own. Transaction pooling: a server connection serves one transaction
    # of a client, then the next client's.
    return f"""\
[databases]
* = host={server.host or "127.0.0.1"} port={server.port or 5432}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder / "users.txt"}
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 20
"""


@contextmanager
def pgbouncer(server: URL) -> Iterator[URL]:
    """Start PgBouncer in front of `server`; yield the URL that reaches the server through
    it (the same user, no database chosen); stop it after."""
    program = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not os.path.exists(program):
        raise RuntimeError("pgbouncer is not installed (Debian: apt-get install pgbouncer)")
    folder = Path(tempfile.mkdtemp(prefix="promo-pgbouncer-"))
    # PgBouncer refuses to run as root: it runs as the server's system user then, who must
    # read its files.
    as_user = ["-u", "postgres"] if os.geteuid() == 0 else []
    folder.chmod(0o755)
    user = server.username or "postgres"
    (folder / "users.txt").write_text(f'"{user}" ""\n')
    log = folder / "pgbouncer.log"
    process = None
    try:
        for _attempt in range(5):
            port = _free_port()  # another process may take it before PgBouncer does: retry
            (folder / "pgbouncer.ini").write_text(_config(server, port, folder))
            with log.open("w") as output:
                process = subprocess.Popen(
                    [program, *as_user, str(folder / "pgbouncer.ini")],
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            if _listening(process, port):
                break
            stop_process(process, timeout=10)
            process = None
        if process is None:
            raise RuntimeError(f"pgbouncer did not start: {log.read_text()}")
        yield server.set(host="127.0.0.1", port=port, database=None)
    finally:
        if process is not None:
            stop_process(process, timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def _listening(process: subprocess.Popen, port: int) -> bool:
    deadline = time.monotonic() + 10
    while process.poll() is None and time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False
