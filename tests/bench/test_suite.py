"""`bench all` runs every benchmark the `bench` command offers (it once left out three)."""

import pytest

from bench.__main__ import COMMANDS
from bench.suite import steps


@pytest.mark.parametrize("quick", [False, True])
def test_the_suite_runs_every_benchmark_command(quick):
    ran = {step[0] for step in steps(quick)}
    assert ran == set(COMMANDS) - {"all"}


def test_the_suite_measures_reads_and_throughput_on_both_databases():
    for command in ("reads", "throughput"):
        dbs = {step[step.index("--db") + 1] for step in steps(False) if step[0] == command}
        assert dbs == {"sqlite", "postgres"}, command


def test_the_suite_measures_asynchronous_accept_alone_on_sqlite():
    """Issue #16's accept target is SQLite's: the suite measures it, so its verdict can judge it."""
    for quick in (False, True):
        drains = [step for step in steps(quick) if step[0] == "drain"]
        sqlite = [step for step in drains if step[step.index("--db") + 1] == "sqlite"]
        assert len(sqlite) == 1
        assert float(sqlite[0][sqlite[0].index("--accept-seconds") + 1]) > 0
