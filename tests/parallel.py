"""How `pytest -n N` (make test) shares the tests out among N xdist workers.

Each test goes to whichever worker is free, except the tests of tests/live: those start
servers, a browser or heavy loads and time what they see, so they run one after another in
one worker, as in a serial run, while the other workers share out the rest. They are sent
first (the largest unit), so that they are not left to run alone at the end.
"""

from __future__ import annotations

from xdist.scheduler import LoadScopeScheduling

SERIAL = ("tests/live/",)


class LiveTestsInOneWorker(LoadScopeScheduling):
    def _split_scope(self, nodeid: str) -> str:
        return "serial" if nodeid.startswith(SERIAL) else nodeid
