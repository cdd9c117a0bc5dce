"""How `pytest -n N` (make test) shares the tests out among N xdist workers.

Each test goes to whichever worker is free, except the tests of tests/live: those start
servers, a browser or heavy loads and time what they see, so they run one after another in
one worker, as in a serial run, while the other workers share out the rest. They are sent
first (the largest unit), so that they are not left to run alone at the end. A module whose
tests share what they saw (WHOLE) runs whole in one worker too.
"""

from __future__ import annotations

from xdist.scheduler import LoadScopeScheduling

SERIAL = ("tests/live/",)
# Modules whose last test reads what the module's other tests saw in the same process: each
# runs whole, in file order, in one worker.
WHOLE = ("tests/api/test_schemathesis.py",)


class LiveTestsInOneWorker(LoadScopeScheduling):
    def _split_scope(self, nodeid: str) -> str:
        if nodeid.startswith(SERIAL):
            return "serial"
        module = nodeid.split("::", 1)[0]
        return module if module in WHOLE else nodeid
