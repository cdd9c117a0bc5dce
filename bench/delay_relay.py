"""A TCP relay that delays every byte by a fixed time each way: a network link of a given
round-trip time between the app and PostgreSQL, on one machine.

bench/latency_pg.py starts it. (`tc netem` on a veth pair into a network namespace would do
it in the kernel; this machine's kernel has no netem qdisc.) Each direction of a connection
has a reader that stamps what it reads with when it may go on, and a writer that sends it
then: order is kept, and several messages can be on the way at once, as on a real link.
Threads, not asyncio: asyncio's timers wait in whole milliseconds. Usage:

    python bench/delay_relay.py DELAY_MS TARGET_HOST TARGET_PORT   (prints its port, then serves)
"""

from __future__ import annotations

import contextlib
import queue
import socket
import sys
import threading
import time


def pump(source: socket.socket, target: socket.socket, delay: float) -> None:
    waiting: queue.SimpleQueue[tuple[float, bytes]] = queue.SimpleQueue()

    def read() -> None:
        while True:
            try:
                chunk = source.recv(65536)
            except OSError:
                chunk = b""
            waiting.put((time.monotonic() + delay, chunk))
            if not chunk:
                return

    def write() -> None:
        while True:
            due, chunk = waiting.get()
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            if not chunk:
                break
            try:
                target.sendall(chunk)
            except OSError:
                break
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    threading.Thread(target=read, daemon=True).start()
    threading.Thread(target=write, daemon=True).start()


def main() -> None:
    delay = float(sys.argv[1]) / 1000
    target = (sys.argv[2], int(sys.argv[3]))
    listener = socket.create_server(("127.0.0.1", 0))
    print(listener.getsockname()[1], flush=True)
    while True:
        client, _address = listener.accept()
        upstream = socket.create_connection(target)
        for end in (client, upstream):
            end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pump(client, upstream, delay)
        pump(upstream, client, delay)


if __name__ == "__main__":
    main()
