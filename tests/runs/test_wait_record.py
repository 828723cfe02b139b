"""WaitRecord: the one shape of a waiting node's RunLog.output (runs/engine/wait_record.py)."""

from __future__ import annotations

import datetime as dt

from nodes.base import Wait
from runs.engine.wait_record import WaitRecord

WHEN = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def test_a_wait_is_written_with_the_keys_the_resume_services_query() -> None:
    webhook = Wait(resume_at=WHEN, token="7-abc", output={"x": 1}, timeout_port="timeout",
                   extra={"resume_url": "https://h/api/resume/7-abc", "note": "kept"})
    assert WaitRecord.from_wait(webhook).to_json() == {
        "resume_at": WHEN.isoformat(), "token": "7-abc", "output": {"x": 1},
        "timeout_port": "timeout", "resume_url": "https://h/api/resume/7-abc", "note": "kept",
    }
    child = WaitRecord.from_wait(Wait(extra={"child_run": 12})).to_json()
    assert child == {"resume_at": None, "token": None, "output": None, "timeout_port": None,
                     "child_run": 12}


def test_a_record_reads_back_what_it_wrote() -> None:
    record = WaitRecord.from_wait(Wait(resume_at=WHEN, token="t", output=[1, 2],
                                       extra={"child_run": 3, "other": True}))
    again = WaitRecord.from_json(record.to_json())
    assert again == record
    assert (again.resume_at, again.child_run, again.extra) == (WHEN, 3, {"other": True})
    assert not again.resumed


def test_resuming_keeps_the_wait_and_adds_the_value_or_the_error() -> None:
    record = WaitRecord.from_wait(Wait(token="t", output="input", timeout_port="timeout"))
    resumed = WaitRecord.from_json(record.resumed_with(output={"ok": 1}).to_json())
    assert (resumed.resumed, resumed.output, resumed.token, resumed.error) == \
        (True, {"ok": 1}, "t", None)
    failed = record.resumed_with(error="sub-workflow run 4 failed").to_json()
    assert failed["resumed"] is True
    assert failed["error"] == "sub-workflow run 4 failed"
    assert failed["output"] == "input"  # an error leaves the output as it was
    assert record.resumed_with(output=None).to_json()["output"] is None  # None is a value


def test_records_of_any_stored_shape_are_read() -> None:
    legacy = {"resume_at": None, "token": "t", "output": 1, "timeout_port": None,
              "resumed": True}
    assert WaitRecord.from_json(legacy).resumed
    assert WaitRecord.from_json(None) == WaitRecord()
    assert WaitRecord.from_json({}).resume_at is None


def test_outputs_that_are_not_json_are_stored_as_json() -> None:
    stored = WaitRecord.from_wait(Wait(output={"s": {1}})).to_json()
    assert stored["output"] == {"s": [1]}
