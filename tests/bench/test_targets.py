"""The verdict at the end of `bench all`: issue #16's targets judged on the figures the
benchmarks kept in one run (bench/targets.py, bench/report.py)."""

import pytest

from bench import report
from bench.targets import TARGETS, verdict


def load(db, connections, rps, p99_ms=20.0, rss_mb=240, server="granian 2x1",
         endpoint="respond", consistent=True):
    return {"kind": "load", "server": server, "db": db, "endpoint": endpoint,
            "connections": connections, "rps": rps, "p99_ms": p99_ms, "rss_mb": rss_mb,
            "consistent": consistent}


def all_met():
    return [
        {"kind": "engine", "mode": "in-memory", "shape": "chain", "nodes": 1000,
         "us_per_node": 42.2984},  # shown to a tenth
        {"kind": "engine", "mode": "persisted", "shape": "chain", "nodes": 1000,
         "us_per_node": 65.6},  # persisted has no per-node target
        {"kind": "linearity", "mode": "in-memory", "shape": "chain", "ratio": 10.6},
        load("sqlite", 16, 1250.2, 22.4, 248),
        load("postgres", 16, 1015.0, 31.3, 247),
        load("sqlite", 64, 1243.8, 75.7, 251),  # c64's p99 and RSS are not targets
        {"kind": "exact", "server": "granian 2x1", "db": "sqlite", "endpoint": "respond",
         "connections": 1000, "consistent": True},
        {"kind": "accept", "server": "granian 2x4", "db": "sqlite", "rps": 2078.4},
        {"kind": "drain", "db": "postgres", "runs_per_s": 850.2},
    ]


def line(lines, start):
    found = [text for text in lines if text.startswith(start)]
    assert len(found) == 1, (start, lines)
    return found[0]


def test_every_target_met_says_so_with_its_figure():
    lines = verdict(all_met())
    assert len(lines) == len(TARGETS)
    assert all(text.endswith(": met") for text in lines), lines
    assert line(lines, "webhook -> transform -> respond, SQLite c16:") == (
        "webhook -> transform -> respond, SQLite c16: 1250.2 req/s "
        "(worst of 1; target >= 1000 req/s): met")
    assert "42.3 us/node" in line(lines, "engine in memory")


def test_the_worst_figure_of_the_run_decides():
    figures = [*all_met(), load("sqlite", 16, 950.0, 35.0, 240)]
    lines = verdict(figures)
    assert line(lines, "webhook -> transform -> respond, SQLite c16:").endswith(
        "950 req/s (worst of 2; target >= 1000 req/s): NOT MET")
    assert line(lines, "webhook -> transform -> respond, SQLite c16, p99").endswith(
        "35 ms (worst of 2; target <= 30 ms): NOT MET")
    assert line(lines, "webhook -> transform -> respond, SQLite c16, server RSS").endswith(
        ": met")


@pytest.mark.parametrize("broken", [
    {"kind": "load", "connections": 1000, "consistent": False},
    {"kind": "exact", "connections": 64, "consistent": False},
])
def test_a_5xx_or_a_lost_run_at_c64_or_1000_clients_is_not_met(broken):
    figures = [*all_met(), {**load("sqlite", 16, 0), **broken}]
    assert line(verdict(figures), "c64 and 1,000 clients").endswith(": NOT MET")


def test_only_granian_and_the_named_database_count():
    figures = [f for f in all_met() if f["kind"] not in ("load", "accept")]
    figures += [load("sqlite", 16, 300.0, server="gunicorn 2x1"),  # a comparison only
                load("postgres", 16, 1015.0),
                {"kind": "accept", "server": "granian 2x1", "db": "postgres", "rps": 1325.0}]
    lines = verdict(figures)
    assert line(lines, "webhook -> transform -> respond, SQLite c16:").startswith(
        "webhook -> transform -> respond, SQLite c16: not measured")
    assert line(lines, "asynchronous accept alone, SQLite").endswith(
        "not measured (target >= 2000 req/s)")
    assert line(lines, "webhook -> transform -> respond, PostgreSQL c16:").endswith(": met")


def test_nothing_kept_is_nothing_measured():
    assert all(": not measured (target " in text for text in verdict([]))


def test_figures_are_kept_only_when_the_suite_asks(tmp_path, monkeypatch):
    kept = tmp_path / "figures.jsonl"
    monkeypatch.delenv(report.FIGURES_ENV, raising=False)
    report.figure("drain", db="postgres", runs_per_s=1.0)
    assert not kept.exists()
    monkeypatch.setenv(report.FIGURES_ENV, str(kept))
    report.figure("drain", db="postgres", runs_per_s=850.2, consistent=True)
    report.figure("accept", db="sqlite", rps=2078.4)
    assert report.figures(str(kept)) == [
        {"kind": "drain", "db": "postgres", "runs_per_s": 850.2, "consistent": True},
        {"kind": "accept", "db": "sqlite", "rps": 2078.4}]
    assert report.figures(str(tmp_path / "missing.jsonl")) == []
