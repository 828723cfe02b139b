"""Benchmark output: figures go to stdout, one line each, as they are measured."""

from __future__ import annotations

import sys


def line(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
