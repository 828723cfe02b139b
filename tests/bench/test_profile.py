"""The profile summary reads py-spy's collapsed stacks and sorts samples into buckets."""

from bench import profile

STACKS = [
    ("WSGIHandler.__call__ (django/core/handlers/wsgi.py:124);"
     "post (runs/webhooks/views.py:200);wait_for_run (runs/dispatch.py:120);sleep (time)", 40),
    ("_worker (concurrent/futures/thread.py:90);execute_run (runs/engine/executor.py:720);"
     "evaluate (runs/engine/expressions/evaluation.py:100);run (asteval/asteval.py:288)", 25),
    ("_worker (concurrent/futures/thread.py:90);execute_run (runs/engine/executor.py:720);"
     "_flush (runs/engine/executor.py:620);execute (django/db/backends/sqlite3/base.py:359)", 30),
    ("WSGIHandler.__call__ (django/core/handlers/wsgi.py:124);"
     "process_request (django/middleware/common.py:48)", 5),
]
COLLAPSED = "".join(f"process 1;{frames} {n}\n" for frames, n in STACKS)


def test_parse_and_bucket_collapsed_stacks(capsys):
    stacks = profile.parse_collapsed(COLLAPSED)
    assert [n for _, n in stacks] == [40, 25, 30, 5]
    summary = profile.summarise(stacks, top=5)
    assert summary["samples"] == 100
    assert summary["buckets"] == {
        "waiting for the run (sleep/poll)": 0.4,
        "expressions (asteval)": 0.25,
        "database driver (sqlite3/psycopg)": 0.3,
        "Django request/middleware/urls": 0.05,
    }
    out = capsys.readouterr().out
    assert "100 samples" in out
    assert "40.0%  waiting for the run (sleep/poll)" in out


def test_the_gil_option_samples_only_the_threads_holding_it():
    from pathlib import Path

    plain = profile.spy_command("py-spy", 42, rate=200, duration=8.9, output=Path("/tmp/x"))
    assert plain[:5] == ["py-spy", "record", "--pid", "42", "--subprocesses"]
    assert "--gil" not in plain
    assert plain[plain.index("--duration") + 1] == "8"
    gil = profile.spy_command("py-spy", 42, rate=200, duration=8, output=Path("/tmp/x"),
                              gil=True)
    assert gil == [*plain, "--gil"]
