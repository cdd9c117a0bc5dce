"""A real HTTP server on loopback that receives the alert webhook's events, as a shop's
monitoring would: it answers each POST with the status the test sets, and keeps what came."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)

    def signed_with(self, secret: str) -> bool:
        """Check the signature as docs/deploy.md tells a receiver to."""
        expected = "sha256=" + hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.headers.get("X-Promo-Signature", ""))


@dataclass
class Receiver:
    url: str
    status: int = 200
    deliveries: list[Delivery] = field(default_factory=list)

    def events(self) -> list[dict[str, Any]]:
        return [delivery.event for delivery in self.deliveries]

    def wait_for(self, count: int, timeout: float = 15) -> list[Delivery]:
        """Wait until `count` deliveries came (the webhook sends from its own thread)."""
        deadline = time.monotonic() + timeout
        while len(self.deliveries) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.deliveries)} deliveries came, not {count}")
            time.sleep(0.02)
        return list(self.deliveries)


@contextmanager
def receiver(status: int = 200) -> Iterator[Receiver]:
    """Serve on a port the OS picks; yield the Receiver (its status can be changed)."""
    received = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.deliveries.append(Delivery(dict(self.headers.items()), body))
            self.send_response(received.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    received.url = f"http://127.0.0.1:{server.server_address[1]}/promo-alerts"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def refused_url() -> str:
    """A loopback URL where nothing listens: connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/promo-alerts"
