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
