import pytest
from rest_framework.test import APIClient

from runs.models import Run
from tests.factories import UserFactory, make_workflow, run_now, simple_definition

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client
    return make


def flaky_workflow(owner, api_server):
    """trigger -> call (counted) -> check (fails until input.ok)."""
    api_server.json("GET", "/count", {"n": 1})
    return make_workflow(owner=owner, definition=simple_definition(
        {"id": "call", "type": "http", "config": {"url": api_server.url + "/count"}},
        {"id": "check", "type": "transform", "config": {"expression": "1 / int(trigger.ok)"}}))


def test_retry_from_failed_node_reuses_earlier_outputs(client_for, api_server):
    owner = UserFactory()
    wf = flaky_workflow(owner, api_server)
    failed = run_now(wf, input={"ok": 0})
    assert failed.status == Run.Status.FAILED
    assert api_server.count("/count") == 1
    answer = client_for(owner).post(f"/api/runs/{failed.pk}/retry", {}, format="json")
    assert answer.status_code == 202, answer.content
    new = Run.objects.get(pk=answer.json()["id"])
    assert (new.retry_of_id, new.trigger) == (failed.pk, Run.Trigger.RETRY)
    assert answer["Location"].endswith(f"/api/runs/{new.pk}")


def test_retry_with_edited_input_runs_from_the_start(client_for, api_server):
    from runs.engine.executor import execute_run

    owner = UserFactory()
    wf = flaky_workflow(owner, api_server)
    failed = run_now(wf, input={"ok": 0})
    answer = client_for(owner).post(f"/api/runs/{failed.pk}/retry", {"input": {"ok": 1}},
                                    format="json")
    assert answer.status_code == 202, answer.content
    new = Run.objects.get(pk=answer.json()["id"])
    Run.objects.filter(pk=new.pk, status=Run.Status.RUNNING)  # inline pool may run it too
    execute_run(new.pk)
    new.refresh_from_db()
    assert new.input == {"ok": 1}


def test_retry_of_a_succeeded_run_is_a_409_with_reason(client_for):
    owner = UserFactory()
    ok = run_now(make_workflow(owner=owner))
    answer = client_for(owner).post(f"/api/runs/{ok.pk}/retry", {}, format="json")
    assert answer.status_code == 409
    assert answer.json()["code"] == "retry_not_allowed"
    assert "succeeded" in answer.json()["message"]


def test_retry_bad_mode_is_a_400_naming_the_field(client_for):
    owner = UserFactory()
    run = run_now(make_workflow(owner=owner, definition=simple_definition(
        {"id": "x", "type": "transform", "config": {"expression": "1/0"}})))
    answer = client_for(owner).post(f"/api/runs/{run.pk}/retry", {"mode": "sideways"},
                                    format="json")
    assert answer.status_code == 400
    assert "mode" in answer.content.decode()


def test_retry_of_another_users_run_is_404(client_for):
    run = run_now(make_workflow(definition=simple_definition(
        {"id": "x", "type": "transform", "config": {"expression": "1/0"}})))
    answer = client_for(UserFactory()).post(f"/api/runs/{run.pk}/retry", {}, format="json")
    assert answer.status_code == 404


def test_bulk_retry_reports_retried_and_skipped(client_for):
    owner = UserFactory()
    bad = make_workflow(owner=owner, definition=simple_definition(
        {"id": "x", "type": "transform", "config": {"expression": "1/0"}}))
    failed1, failed2 = run_now(bad), run_now(bad)
    ok = run_now(make_workflow(owner=owner))
    foreign = run_now(make_workflow(definition=simple_definition(
        {"id": "x", "type": "transform", "config": {"expression": "1/0"}})))
    answer = client_for(owner).post(
        "/api/runs/retry", {"runs": [failed1.pk, failed2.pk, ok.pk, foreign.pk],
                            "mode": "from_start"}, format="json")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert [r["run"] for r in body["retried"]] == [failed1.pk, failed2.pk]
    skipped = {r["run"]: r["reason"] for r in body["skipped"]}
    assert set(skipped) == {ok.pk, foreign.pk}
    assert f"no run {foreign.pk}" == skipped[foreign.pk]
    assert Run.objects.filter(retry_of=foreign).count() == 0


def test_retry_of_a_cancelled_run_from_failed_is_409_naming_mode_from_start(client_for):
    from runs.services import run_cancel, run_start

    owner = UserFactory()
    run = run_start(workflow=make_workflow(owner=owner, definition=simple_definition(
        {"id": "pause", "type": "delay", "config": {"seconds": 3600}})), input={})
    run_cancel(run=run)
    client = client_for(owner)
    answer = client.post(f"/api/runs/{run.pk}/retry", {}, format="json")
    assert answer.status_code == 409
    assert answer.json()["code"] == "retry_not_allowed"
    assert '"mode": "from_start"' in answer.json()["message"]
    # ... and doing what it says works.
    again = client.post(f"/api/runs/{run.pk}/retry", {"mode": "from_start"}, format="json")
    assert again.status_code == 202, again.content
    client.post(f"/api/runs/{again.json()['id']}/cancel")
