"""The `schedule` trigger: config validation, due times, firing once, the missed-times policy."""

from __future__ import annotations

import datetime as dt

import pytest

from nodes.types.schedule import ScheduleConfig
from runs.models import Run, ScheduleFire
from runs.scheduler import Scheduler
from tests.factories import make_workflow
from workflows.validation import validate_definition

UTC = dt.UTC


def schedule_definition(**config) -> dict:
    return {"name": "scheduled",
            "nodes": [{"id": "tick", "type": "schedule", "config": config},
                      {"id": "shape", "type": "transform",
                       "config": {"mapping": {"at": "input.scheduled_at"}}}],
            "edges": [{"from": "tick", "to": "shape"}]}


@pytest.mark.parametrize(("config", "path", "message"), [
    ({}, "nodes[0].config", "give either cron or interval"),
    ({"cron": "* * * * *", "interval": 60}, "nodes[0].config", "give either cron or interval"),
    ({"cron": "61 * * * *"}, "nodes[0].config.cron", "not a valid cron expression"),
    ({"cron": "* * *"}, "nodes[0].config.cron", "5 fields, or 6 with seconds first"),
    ({"interval": 0}, "nodes[0].config.interval", "greater than or equal to 1"),
    ({"cron": "0 9 * * *", "timezone": "Mars/Olympus"}, "nodes[0].config.timezone",
     "unknown time zone"),
])
def test_bad_schedules_are_refused_naming_the_field(config, path, message):
    errors = validate_definition(schedule_definition(**config))
    assert any(e["path"] == path and message in e["message"] for e in errors), errors


def test_cron_due_times_honour_seconds_and_time_zones():
    weekdays_9_paris = ScheduleConfig(cron="0 9 * * 1-5", timezone="Europe/Paris")
    # Friday 2026-03-27 09:00 in Paris is 08:00 UTC (winter time).
    now = dt.datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # a Saturday
    assert weekdays_9_paris.latest_due(now) == dt.datetime(2026, 3, 27, 8, 0, tzinfo=UTC)
    # After the switch to summer time, 09:00 Paris is 07:00 UTC.
    monday = dt.datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert weekdays_9_paris.latest_due(monday) == monday

    every_10s = ScheduleConfig(cron="*/10 * * * * *")
    at = dt.datetime(2026, 1, 1, 12, 0, 25, 500000, tzinfo=UTC)
    assert every_10s.latest_due(at) == dt.datetime(2026, 1, 1, 12, 0, 20, tzinfo=UTC)


def test_intervals_are_aligned_to_the_epoch():
    every_5_min = ScheduleConfig(interval=300)
    at = dt.datetime(2026, 1, 1, 12, 7, 59, tzinfo=UTC)
    assert every_5_min.latest_due(at) == dt.datetime(2026, 1, 1, 12, 5, tzinfo=UTC)


@pytest.fixture
def minutely(db):
    workflow = make_workflow(definition=schedule_definition(cron="* * * * *"))
    saved = workflow.versions.get().created_at
    start = saved.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    return workflow, start


def runs_of(workflow) -> list[str]:
    return sorted(r.input["scheduled_at"] for r in Run.objects.filter(workflow=workflow))


def test_each_due_time_fires_once_with_two_schedulers(minutely, django_capture_on_commit_callbacks):
    workflow, start = minutely
    first, second = Scheduler(), Scheduler()
    with django_capture_on_commit_callbacks():  # runs stay queued: this test is about firing
        assert len(first.tick(start + dt.timedelta(seconds=1))) == 1
        assert second.tick(start + dt.timedelta(seconds=2)) == []  # already fired
        assert first.tick(start + dt.timedelta(seconds=30)) == []  # same due time
        assert len(second.tick(start + dt.timedelta(minutes=1))) == 1  # the next one
        assert first.tick(start + dt.timedelta(minutes=1, seconds=5)) == []

    assert runs_of(workflow) == [start.isoformat(),
                                 (start + dt.timedelta(minutes=1)).isoformat()]
    run = Run.objects.filter(workflow=workflow).first()
    assert run.trigger == Run.Trigger.SCHEDULE
    assert ScheduleFire.objects.filter(workflow=workflow).count() == 2


def test_missed_times_fire_once_for_the_latest(minutely, django_capture_on_commit_callbacks):
    workflow, start = minutely
    with django_capture_on_commit_callbacks():
        Scheduler().tick(start)
        # Down for an hour: a new scheduler fires only the latest missed minute, once.
        later = start + dt.timedelta(hours=1, seconds=20)
        assert len(Scheduler().tick(later)) == 1
        assert Scheduler().tick(later) == []
    assert runs_of(workflow) == [start.isoformat(),
                                 (start + dt.timedelta(hours=1)).isoformat()]


def test_no_fire_before_the_schedule_was_saved_nor_when_inactive(
        minutely, django_capture_on_commit_callbacks):
    workflow, start = minutely
    with django_capture_on_commit_callbacks():
        assert Scheduler().tick(start - dt.timedelta(seconds=1)) == []  # due time before save
        workflow.is_active = False
        workflow.save(update_fields=["is_active"])
        assert Scheduler().tick(start + dt.timedelta(seconds=1)) == []
    assert runs_of(workflow) == []


def test_a_fired_schedule_run_executes(minutely):
    from runs.engine.executor import execute_run

    workflow, start = minutely
    [run] = Scheduler().tick(start)
    assert execute_run(run.pk) == Run.Status.SUCCEEDED
    run.refresh_from_db()
    assert run.result == {"at": start.isoformat()}
