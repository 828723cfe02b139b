"""Executors are classes chosen once from settings: inline (a thread pool here) or Celery."""

from __future__ import annotations

import threading

import pytest

from runs import dispatch, scheduler
from runs.celery_executor import CeleryExecutor
from runs.dispatch import InlineExecutor, executor


def test_the_setting_chooses_the_executor_once(settings):
    first = executor()
    assert isinstance(first, InlineExecutor)
    assert executor() is first  # one instance per process
    settings.WFAIB = {**settings.WFAIB, "EXECUTOR": "celery"}
    assert isinstance(executor(), CeleryExecutor)
    settings.WFAIB = {**settings.WFAIB, "EXECUTOR": "inline"}
    assert executor() is first


def test_an_unknown_executor_is_refused_with_the_choices(settings):
    settings.WFAIB = {**settings.WFAIB, "EXECUTOR": "threads"}
    with pytest.raises(ValueError, match="inline, celery"):
        executor()


@pytest.mark.parametrize(("name", "mode"), [("inline", "embedded"), ("celery", "off")])
def test_the_scheduler_runs_where_the_executor_wants_it_unless_configured(settings, name,
                                                                         mode):
    settings.WFAIB = {**settings.WFAIB, "EXECUTOR": name, "SCHEDULER": ""}
    assert scheduler.mode() == mode
    settings.WFAIB = {**settings.WFAIB, "SCHEDULER": "off"}
    assert scheduler.mode() == "off"


def test_drain_waits_for_work_handed_out_meanwhile():
    """The pool's runs, and what they hand out themselves, finish before drain() returns."""
    inline = InlineExecutor()
    gate, order = threading.Event(), []

    def second(_run_id):
        order.append("second")

    def first(_run_id):
        gate.wait(30)
        inline._track(inline.pool().submit(dispatch._in_thread, second, 2))
        order.append("first")

    inline._track(inline.pool().submit(dispatch._in_thread, first, 1))
    gate.set()
    assert inline.drain(timeout=60)
    assert sorted(order) == ["first", "second"]
