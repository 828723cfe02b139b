"""A synchronous webhook run is created no later than it starts, on each direct path."""

import pytest

from runs.models import Run
from tests.factories import make_workflow, simple_definition


@pytest.mark.parametrize("path", ["deferred", "claimed"])
@pytest.mark.django_db(transaction=True)
def test_a_synchronous_webhook_run_is_created_before_it_starts(client, user, api_server, path):
    api_server.json("GET", "/ok", {"ok": True})
    node = ({"id": "t", "type": "transform", "config": {"expression": "input.n + 1"}}
            if path == "deferred" else
            {"id": "call", "type": "http", "config": {"url": api_server.url + "/ok"}})
    workflow = make_workflow(owner=user, definition=simple_definition(node))
    answer = client.post(f"/api/webhook/{workflow.pk}", b'{"n": 1}',
                         content_type="application/json")
    assert answer.status_code == 200, answer.content
    run = Run.objects.get(pk=answer.json()["run"])
    assert run.status == "succeeded"
    assert run.created_at <= run.started_at <= run.finished_at
