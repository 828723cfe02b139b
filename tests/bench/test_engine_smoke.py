"""Smoke run of `bench engine`: every mode at tiny sizes computes the right result and logs."""

import pytest

from bench import engine

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("mode", engine.MODES)
def test_engine_benchmark_modes_compute_the_expected_results(mode, user):
    # `measure` raises when a run's result or its number of logs is wrong.
    rows = engine.measure(["chain", "fan"], [10, 30], 1, mode)
    assert [(r["shape"], r["nodes"]) for r in rows] == [
        ("chain", 10), ("chain", 30), ("fan", 10), ("fan", 30)]
    assert all(r["mode"] == mode and r["seconds"] > 0 for r in rows)


def test_in_memory_execution_writes_nothing_to_the_database():
    from bench.workflows import chain
    from runs.models import Run, RunLog

    _elapsed, _cpu, result, logs, status = engine.run_in_memory(chain(25), payload=5)
    assert (result, logs, status) == (5 + 24, 25, "succeeded")
    assert Run.objects.count() == 0
    assert RunLog.objects.count() == 0


def test_expressions_read_nodes_in_memory():
    """`nodes` is kept up to date by the engine; its read-only dict methods work."""
    from bench.workflows import _t, _trigger

    definition = {
        "name": "names",
        "nodes": [_trigger(), _t("a", "input + 1"), _t("b", "nodes.a * 10"),
                  _t("c", "sorted(nodes.keys())")],
        "edges": [{"from": "trigger", "to": "a"}, {"from": "a", "to": "b"},
                  {"from": "b", "to": "c"}],
    }
    today = engine.run_in_memory(definition, payload=1)
    assert today[2] == ["a", "b", "trigger"]


def test_linearity_is_the_median_of_paired_rounds():
    """Each round runs the small and the large graph back to back; one noisy round (the large
    graph hit by a slow second) moves one ratio, not the figure, which a best/best ratio of
    unpaired runs would not survive when the small graph's best came from a quiet moment."""
    small = [0.040, 0.040, 0.060]
    large = [0.420, 0.700, 0.610]  # round 2's large run hit a slow patch
    assert engine.paired_ratio(large, small) == pytest.approx(10.5)
    assert engine.paired_ratio([1.0], [0.1]) == pytest.approx(10.0)
    with pytest.raises(ValueError, match="shorter"):
        engine.paired_ratio([1.0, 2.0], [0.1])


def test_sizes_take_turns_round_by_round(monkeypatch, user):
    """The rounds interleave the sizes (10, 30, 10, 30, ...), so a size's rounds pair with the
    other size's rounds measured right beside them."""
    order = []
    real = engine.run_in_memory

    def recording(definition, payload=0):
        order.append(len(definition["nodes"]))
        return real(definition, payload)

    monkeypatch.setattr(engine, "run_in_memory", recording)
    rows = engine.measure(["chain"], [10, 30], 3, "in-memory")
    assert order == [10, 30, 10, 30, 10, 30]
    assert [len(r["rounds"]) for r in rows] == [3, 3]
