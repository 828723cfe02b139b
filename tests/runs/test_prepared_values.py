"""runs/prepared_values.py prepares a value for an INSERT as Django's `get_db_prep_save` does,
only cheaper: both ways compared value by value (results, or the error raised) on every
concrete field of the project's models, on the database the suite runs on."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from runs.models import Run, RunLog
from runs.prepared_values import value_getter, value_preparer

VALUES = [
    None, "", "text", "a\x00b", "42", 0, 7, -1, 2**40, True, False, 1.5, Decimal("2.25"),
    datetime(2026, 12, 2, 1, 2, 3, 456789, tzinfo=UTC),
    datetime(2026, 7, 1, 12, 0, tzinfo=ZoneInfo("Europe/Berlin")),
    datetime(2026, 12, 2, 1, 2, 3, tzinfo=UTC).replace(tzinfo=None),  # naive: Django warns
    date(2026, 12, 2), {"a": [1, "\x00"]}, [1, 2],
]

PROJECT_FIELDS = [
    pytest.param(field, id=f"{model.__name__}.{field.name}")
    for model in apps.get_models() if not model.__module__.startswith("django.")
    for field in model._meta.concrete_fields
]


def _outcome(prepare, value):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            result = prepare(value)
        except Exception as error:  # the same refusal either way
            return ("raises", type(error), str(error)), [str(w.message) for w in seen]
    # psycopg wrappers (Jsonb, Int4...) compare by what they hold
    return (type(result), getattr(result, "obj", result)), [str(w.message) for w in seen]


@pytest.mark.django_db
@pytest.mark.parametrize("field", PROJECT_FIELDS)
def test_a_value_is_prepared_as_django_prepares_it(field):
    fast = value_preparer(field, connection)
    for value in VALUES:
        assert _outcome(fast, value) == _outcome(
            lambda v: field.get_db_prep_save(v, connection), value), (field.name, value)


@pytest.mark.django_db
def test_most_fields_of_a_run_and_its_logs_take_a_fast_case():
    """The comparison above is not vacuous: a run's row and its logs mostly take a fast case
    (the function value_preparer makes), not Django's own path."""
    fields = [f for model in (Run, RunLog) for f in model._meta.concrete_fields]
    fast = [f for f in fields if value_preparer(f, connection).__qualname__.startswith(
        "value_preparer.")]
    assert len(fast) >= 25, [f.name for f in fast]


@pytest.mark.django_db
def test_a_value_is_read_as_pre_save_reads_it():
    """auto_now and auto_now_add fields still get their time (pre_save sets it on the row);
    every other field is read as it is on the row."""
    from workflows.models import Workflow

    workflow = Workflow(name="w", definition={"nodes": []})
    before = timezone.now()
    for name in ("created_at", "updated_at"):
        field = Workflow._meta.get_field(name)
        assert value_getter(field)(workflow) >= before
        assert getattr(workflow, name) >= before
    run = Run(trigger="manual", input={"a": 1}, status="queued", workflow=workflow)
    for name in ("status", "input", "started_at", "workflow", "created_at"):
        field = Run._meta.get_field(name)
        assert value_getter(field)(run) == field.pre_save(run, True)
