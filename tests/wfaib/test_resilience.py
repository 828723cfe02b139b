"""wfaib/resilience.py: webhook load shedding (503 overloaded before any work is accepted), the
bounded wait for a place, and JSON (never HTML) for unexpected errors under /api/."""

from __future__ import annotations

import threading

import pytest
from django.test import Client

from runs.models import Run
from tests.factories import make_workflow, simple_definition
from wfaib.resilience import Gate, webhook_gate


@pytest.fixture
def shed_settings(settings):
    settings.WFAIB = {**settings.WFAIB, "WEBHOOK_MAX_INFLIGHT": 1, "WEBHOOK_MAX_WAITING": 0,
                      "WEBHOOK_QUEUE_WAIT": 3.0}
    return settings


def test_gate_turns_callers_away_past_its_places_and_queue():
    gate = Gate(limit=1, waiting=0, wait=1.0)
    assert gate.enter()
    assert not gate.enter()  # no queue: turned away at once
    gate.leave()
    assert gate.enter()


def test_gate_lets_a_waiting_caller_in_when_a_place_frees():
    gate = Gate(limit=1, waiting=1, wait=60.0)
    assert gate.enter()
    outcome: list[bool] = []
    waiter = threading.Thread(target=lambda: outcome.append(gate.enter()))
    waiter.start()
    while gate.waiting == 0:  # the waiter queued
        threading.Event().wait(0.01)
    assert not gate.enter()  # the queue (1) is full: a third is turned away at once
    gate.leave()  # the first leaves: the waiter gets its place
    waiter.join(30)
    assert outcome == [True]
    assert gate.active == 1


def test_gate_gives_up_on_a_waiter_after_the_wait():
    gate = Gate(limit=1, waiting=5, wait=0.05)
    assert gate.enter()
    assert not gate.enter()
    assert gate.waiting == 0


@pytest.mark.django_db
def test_an_overloaded_webhook_answers_503_json_with_retry_after_and_starts_nothing(
        shed_settings):
    workflow = make_workflow(definition=simple_definition(
        {"id": "t", "type": "transform", "config": {"expression": "{{ input }}"}}))
    client = Client()
    gate = webhook_gate()
    assert gate.enter()  # the one place is taken by a request in flight
    try:
        answer = client.post(f"/api/webhook/{workflow.pk}?wait=false", b'{"a": 1}',
                             content_type="application/json")
    finally:
        gate.leave()
    assert answer.status_code == 503
    assert answer["Content-Type"] == "application/json"
    assert answer.json()["code"] == "overloaded"
    assert int(answer["Retry-After"]) >= 1
    assert not Run.objects.exists()
    # The place is free again: the next request is served.
    answer = client.post(f"/api/webhook/{workflow.pk}?wait=false", b'{"a": 1}',
                         content_type="application/json")
    assert answer.status_code == 202
    assert Run.objects.count() == 1
    assert webhook_gate().active == 0  # the served request gave its place back


@pytest.mark.django_db
def test_other_api_paths_are_not_shed(shed_settings, django_user_model):
    gate = webhook_gate()
    assert gate.enter()
    try:
        assert Client().get("/api/health").status_code == 200
    finally:
        gate.leave()


@pytest.mark.urls("tests.wfaib.urls_failing")
def test_an_unexpected_error_under_api_is_json_not_html(db):
    answer = Client(raise_request_exception=False).get("/api/broken")
    assert answer.status_code == 500
    assert answer["Content-Type"] == "application/json"
    assert answer.json() == {"code": "server_error", "message": "internal server error"}


@pytest.mark.urls("tests.wfaib.urls_failing")
def test_an_unexpected_error_on_a_page_keeps_djangos_page(db):
    answer = Client(raise_request_exception=False).get("/broken")
    assert answer.status_code == 500
    assert answer["Content-Type"].startswith("text/html")
