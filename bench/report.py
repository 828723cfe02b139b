"""Benchmark output: figures go to stdout, one line each, as they are measured.

`figure(kind, **fields)` also keeps a figure for the verdict at the end of `bench all`
(bench/targets.py): when BENCH_FIGURES names a file, the figure is appended to it as one JSON
line. Each benchmark runs in a process of its own, so a file is how they reach the suite.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

FIGURES_ENV = "BENCH_FIGURES"


def line(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def figure(kind: str, **fields: Any) -> None:
    path = os.environ.get(FIGURES_ENV)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps({"kind": kind, **fields}, default=str) + "\n")


def figures(path: str) -> list[dict[str, Any]]:
    """The figures kept in `path` (none when the file is missing)."""
    try:
        with open(path, encoding="utf-8") as kept:
            return [json.loads(text) for text in kept if text.strip()]
    except FileNotFoundError:
        return []
