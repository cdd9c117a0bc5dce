"""The watch of one process: attach calls note the programs they draw from (a set.add),
and two daemon threads, started by the first note in each process (gunicorn's workers are
forked: no thread is started at import or in the master), do the rest away from the call:

- the looker, every PROMO_WEBHOOK_CHECK_SECONDS, looks once at each program noted (a
  program drawn from a hundred times in that while is looked at once), on a connection of
  its own, and queues the event of a crossing;
- the sender delivers the queued events one by one, with their retries.

A program is looked at one round after it was noted, so that the attach that noted it has
committed by then. The queue is bounded: when a receiver is down for long, the events past
it are logged and dropped, never held against the attach calls.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
from typing import Any

from sqlalchemy.engine import Engine

from ..times import utcnow
from .crossing import look, record
from .delivery import Settings, deliver, make_event

log = logging.getLogger("promo_app.webhook")

QUEUE_SIZE = 100
# Programs looked at per round at most (a caller naming thousands of programs costs no more).
ROUND_SIZE = 1_000


class PoolWatch:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.noted: set[int] = set()
        self.started = False
        self._starting = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.events: queue.Queue[dict[str, Any] | None] = queue.Queue(QUEUE_SIZE)

    def note(self, loyalty_id: int) -> None:
        """Say that an attach drew from program `loyalty_id` (the only call on its path)."""
        self.noted.add(loyalty_id)
        if not self.started:
            self.start()

    def start(self) -> None:
        with self._starting:
            if self.started:
                return
            self._stop = threading.Event()
            self.events = queue.Queue(QUEUE_SIZE)
            self._threads = [
                threading.Thread(target=self._look_loop, name="promo-webhook-look", daemon=True),
                threading.Thread(target=self._send_loop, name="promo-webhook-send", daemon=True),
            ]
            for thread in self._threads:
                thread.start()
            self.started = True

    def stop(self, timeout: float = 5) -> None:
        """Stop the threads (a test's app, or a process that ends)."""
        self._stop.set()
        with contextlib.suppress(queue.Full):  # a full queue: the sender is busy, and sees _stop
            self.events.put_nowait(None)
        for thread in self._threads:
            thread.join(timeout)
        self.started = False

    def forget_threads(self) -> None:
        """In a forked child: the parent's threads are not there; the next note starts ours."""
        self._starting = threading.Lock()
        self._threads = []
        self.started = False

    def _look_loop(self) -> None:
        settling: set[int] = set()
        while not self._stop.wait(self.settings.check_every):
            ready, settling = settling, self._take_noted()
            if ready:
                self.look_at(sorted(ready)[:ROUND_SIZE])

    def _take_noted(self) -> set[int]:
        noted, self.noted = self.noted, set()
        # A copy made in one step under the GIL: an attach thread may still add to `noted`.
        return set(noted)

    def look_at(self, loyalty_ids: list[int]) -> None:
        """Look at each program; queue the event of each crossing."""
        threshold = self.settings.threshold
        for loyalty_id in loyalty_ids:
            try:
                with self.engine.connect() as connection:
                    now = utcnow()
                    program = look(connection, loyalty_id, threshold, now)
                    if program is None:
                        continue
                    crossed = record(connection, loyalty_id, program["pool"], now)
                    connection.commit()
                if crossed:
                    self._queue(make_event(program, threshold, now))
            except Exception:
                log.exception("Alert webhook: could not look at program %s", loyalty_id)

    def _queue(self, event: dict[str, Any]) -> None:
        try:
            self.events.put_nowait(event)
        except queue.Full:
            log.error("Alert webhook: the queue is full; dropped: %s", event["message"])

    def _send_loop(self) -> None:
        while True:
            event = self.events.get()  # None: stop
            if event is None or self._stop.is_set():
                return
            try:
                deliver(self.settings, event, self._stop.wait)
            except Exception:
                log.exception("Alert webhook: could not send event %s", event.get("id"))


_WATCHES: dict[Engine, PoolWatch] = {}


def watch_of(engine: Engine) -> PoolWatch | None:
    return _WATCHES.get(engine)


def install(engine: Engine, settings: Settings) -> PoolWatch:
    watch = _WATCHES[engine] = PoolWatch(engine, settings)
    return watch


def uninstall(engine: Engine) -> None:
    watch = _WATCHES.pop(engine, None)
    if watch is not None:
        watch.stop()


def note_drawn(engine: Engine, loyalty_id: int) -> None:
    """Note a draw from program `loyalty_id` for the watch of `engine`'s app, if it has one.
    Without PROMO_WEBHOOK_URL anywhere in the process, one test of an empty dict."""
    if _WATCHES:
        watch = _WATCHES.get(engine)
        if watch is not None:
            watch.note(loyalty_id)


def _after_fork_in_child() -> None:
    for watch in _WATCHES.values():
        watch.forget_threads()


os.register_at_fork(after_in_child=_after_fork_in_child)
