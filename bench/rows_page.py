"""bench/run.py's rows of the merchant page: paging, and the page's upload (a row of
`import`), each measured by bench/page.py in a process of its own."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from common import ROOT, Row


def bench_page(args: argparse.Namespace) -> list[Row]:
    return [page_row(args, "paging")]


def page_row(args: argparse.Namespace, which: str) -> Row:
    """Run bench/page.py in its own process (it measures its own peak memory)."""
    what = {
        "paging": "open page 5,000 of a program's codes vs page 1",
        "upload": f"import {args.codes:,} codes through the page's upload",
    }[which]
    target = {"paging": "<= 1.5", "upload": ">= 0.5"}[which]
    completed = subprocess.run(
        [sys.executable, "bench/page.py", which, str(args.codes), str(args.import_runs)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        output = (completed.stderr.strip() or completed.stdout.strip())[-300:]
        return Row(what, f"failed (exit {completed.returncode})", "", None, target, output)
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    if "unavailable" in result:
        return Row(what, "not available", "", None, target, result["unavailable"])
    return Row(
        what, result["measured"], result["baseline"], result["ratio"], target, result["note"]
    )
