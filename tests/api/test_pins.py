"""Pinned data and test runs from the editor (workflows/pins.py, runs/test_runs.py): pins are
set and cleared through the API, used by test runs only (whole workflow, one step, from a
node), never by production runs; bad pins and bad test runs answer 400 naming the field."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Membership, Role
from runs.engine.executor import execute_run
from runs.models import Run
from tests.factories import UserFactory, make_workflow, run_now, simple_definition
from workflows.models import Workflow

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client
    return make


def counted_workflow(owner, api_server):
    """trigger -> call (an HTTP call, counted) -> check (reads call's output) -> after."""
    api_server.json("GET", "/count", {"n": 1, "source": "server"})
    return make_workflow(owner=owner, definition=simple_definition(
        {"id": "call", "type": "http", "config": {"url": api_server.url + "/count"}},
        {"id": "check", "type": "transform",
         "config": {"expression": "{{ {'seen': input.body.source, 'x': trigger.x} }}"}},
        {"id": "after", "type": "transform", "config": {"expression": "{{ input.seen }}"}}))


def started(answer) -> Run:
    """The run a 202 answer names, executed here (the API queues it after commit)."""
    assert answer.status_code == 202, answer.content
    execute_run(answer.json()["id"])
    return Run.objects.get(pk=answer.json()["id"])


def outputs(run: Run) -> dict:
    return {log.node_id: log.output for log in run.logs.filter(status="succeeded")}


PINNED_CALL = {"value": {"status": 200, "body": {"source": "pinned"}}}


# -- the pins API --------------------------------------------------------------------------

def test_pin_set_read_clear_without_a_new_version(client_for, api_server):
    owner = UserFactory()
    wf = counted_workflow(owner, api_server)
    api = client_for(owner)
    answer = api.put(f"/api/workflows/{wf.pk}/pins/call", PINNED_CALL, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["port"] == "main"
    assert answer.json()["by"] == owner.email
    pins = api.get(f"/api/workflows/{wf.pk}/pins").json()["pins"]
    assert pins["call"]["value"] == PINNED_CALL["value"]
    wf.refresh_from_db()
    assert wf.version == 1
    assert "pinned" not in wf.definition
    assert api.delete(f"/api/workflows/{wf.pk}/pins/call").status_code == 204
    assert api.get(f"/api/workflows/{wf.pk}/pins").json() == {"pins": {}}
    assert api.delete(f"/api/workflows/{wf.pk}/pins/call").status_code == 204  # idempotent
    assert api.put(f"/api/workflows/{wf.pk}/pins/check", {"value": None},
                   format="json").status_code == 200  # a node's output may be null


def test_pin_of_a_node_removed_later_is_neither_shown_nor_used(client_for, api_server):
    owner = UserFactory()
    wf = counted_workflow(owner, api_server)
    api = client_for(owner)
    api.put(f"/api/workflows/{wf.pk}/pins/after", {"value": 1}, format="json")
    definition = {**wf.definition, "nodes": wf.definition["nodes"][:3],
                  "edges": wf.definition["edges"][:2]}
    assert api.patch(f"/api/workflows/{wf.pk}", {"definition": definition},
                     format="json").status_code == 200
    assert api.get(f"/api/workflows/{wf.pk}/pins").json() == {"pins": {}}


@pytest.mark.parametrize(("node", "body", "field"), [
    ("nope", {"value": 1}, "node"),
    ("call", {"value": 1, "port": "sideways"}, "port"),
    ("call", {}, "value"),
    ("call", {"value": 1, "colour": "red"}, "colour"),
    ("call", {"value": {"__wfaib_truncated__": True, "bytes": 9, "preview": "{"}}, "value"),
])
def test_bad_pins_answer_400_naming_the_field(client_for, api_server, node, body, field):
    owner = UserFactory()
    wf = counted_workflow(owner, api_server)
    answer = client_for(owner).put(f"/api/workflows/{wf.pk}/pins/{node}", body, format="json")
    assert answer.status_code == 400, answer.content
    assert answer.json()["code"] == "invalid"
    assert field in answer.json()["fields"], answer.json()


def test_a_pin_over_the_size_limit_is_refused(client_for, api_server, settings):
    settings.WFAIB = {**settings.WFAIB, "PIN_MAX_BYTES": 1000}
    owner = UserFactory()
    wf = counted_workflow(owner, api_server)
    answer = client_for(owner).put(f"/api/workflows/{wf.pk}/pins/call",
                                   {"value": {"text": "x" * 2000}}, format="json")
    assert answer.status_code == 400
    assert "WFAIB_PIN_MAX_BYTES" in answer.json()["fields"]["value"][0]
    assert Workflow.objects.get(pk=wf.pk).pinned == {}


def test_pins_of_a_workflow_you_cannot_edit(client_for, api_server):
    owner, stranger, viewer = UserFactory(), UserFactory(), UserFactory()
    wf = counted_workflow(owner, api_server)
    Membership.objects.create(project=wf.project, user=viewer, role=Role.VIEWER)
    url = f"/api/workflows/{wf.pk}/pins/call"
    assert client_for(stranger).put(url, PINNED_CALL, format="json").status_code == 404
    assert client_for(stranger).get(f"/api/workflows/{wf.pk}/pins").status_code == 404
    assert client_for(viewer).put(url, PINNED_CALL, format="json").status_code == 403
    assert client_for(viewer).delete(url).status_code == 403
    assert client_for(viewer).get(f"/api/workflows/{wf.pk}/pins").status_code == 200
    assert Workflow.objects.get(pk=wf.pk).pinned == {}


# -- production runs ignore pins -------------------------------------------------------------

def test_production_runs_ignore_pins(client_for, api_server):
    owner = UserFactory()
    wf = counted_workflow(owner, api_server)
    api = client_for(owner)
    api.put(f"/api/workflows/{wf.pk}/pins/call", PINNED_CALL, format="json")
    manual = run_now(wf, {"x": 1})
    scheduled = run_now(wf, {"x": 1}, trigger=Run.Trigger.SCHEDULE)
    by_api = started(api.post(f"/api/workflows/{wf.pk}/runs", {"input": {"x": 2}},
                              format="json"))
    for run in (manual, scheduled, by_api):
        assert run.status == Run.Status.SUCCEEDED, run.error
        assert outputs(run)["check"]["seen"] == "server"
        assert run.test is None
    assert api_server.count("/count") == 3


@pytest.mark.django_db(transaction=True)
def test_webhook_runs_ignore_pins(client_for, api_server, client):
    owner = UserFactory()
    wf = counted_workflow(owner, api_server)
    client_for(owner).put(f"/api/workflows/{wf.pk}/pins/call", PINNED_CALL, format="json")
    hook = client.post(f"/api/webhook/{wf.pk}", {"x": 3}, content_type="application/json")
    assert hook.status_code == 200, hook.content
    run = Run.objects.get(workflow=wf, trigger=Run.Trigger.WEBHOOK)
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert outputs(run)["after"] == "server"
    assert run.test is None
    assert api_server.count("/count") == 1


# -- test runs -------------------------------------------------------------------------------

def test_test_run_of_the_workflow_uses_pinned_data(client_for, api_server):
    owner = UserFactory()
    wf = counted_workflow(owner, api_server)
    api = client_for(owner)
    api.put(f"/api/workflows/{wf.pk}/pins/call", PINNED_CALL, format="json")
    run = started(api.post(f"/api/workflows/{wf.pk}/runs",
                           {"mode": "workflow", "input": {"x": 5}}, format="json"))
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.trigger == Run.Trigger.TEST
    assert outputs(run)["check"] == {"seen": "pinned", "x": 5}
    assert run.result == "pinned"
    assert run.test["pinned"] == ["call"]
    assert run.test["mode"] == "workflow"
    assert api_server.count("/count") == 0  # the pinned node did not run
    body = api.get(f"/api/runs/{run.pk}").json()  # the run viewer's data
    assert body["trigger"] == "test"
    assert body["test"]["pinned"] == ["call"]


def test_a_pinned_trigger_gives_the_test_run_its_payload(client_for, api_server):
    owner = UserFactory()
    wf = counted_workflow(owner, api_server)
    api = client_for(owner)
    api.put(f"/api/workflows/{wf.pk}/pins/trigger", {"value": {"x": 42}}, format="json")
    run = started(api.post(f"/api/workflows/{wf.pk}/runs", {"mode": "workflow"},
                           format="json"))
    assert run.input == {"x": 42}
    assert outputs(run)["check"] == {"seen": "server", "x": 42}


def test_step_runs_one_node_on_the_last_run_output(client_for, api_server):
    owner = UserFactory()
    wf = counted_workflow(owner, api_server)
    first = run_now(wf, {"x": 1})
    assert api_server.count("/count") == 1
    run = started(client_for(owner).post(f"/api/workflows/{wf.pk}/runs",
                                         {"mode": "step", "node": "check"}, format="json"))
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert api_server.count("/count") == 1  # upstream not run again
    ran = {log.node_id for log in run.logs.all()}
    assert ran == {"trigger", "call", "check"}  # `after` is not part of the step
    assert outputs(run)["check"] == {"seen": "server", "x": 1}  # the last run's input too
    assert run.test["reused"] == {"trigger": first.pk, "call": first.pk}
    assert run.test["only"] == ["check"]
    assert run.result == {"seen": "server", "x": 1}


def test_step_prefers_pinned_data_and_runs_upstream_without_data(client_for, api_server):
    owner = UserFactory()
    wf = counted_workflow(owner, api_server)
    api = client_for(owner)
    # No run yet: `call` has no data, so the step runs it (and the trigger) first.
    run = started(api.post(f"/api/workflows/{wf.pk}/runs",
                           {"mode": "step", "node": "check", "input": {"x": 2}}, format="json"))
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert outputs(run)["check"] == {"seen": "server", "x": 2}
    assert api_server.count("/count") == 1
    assert run.test["only"] == ["call", "check", "trigger"]
    api.put(f"/api/workflows/{wf.pk}/pins/call", PINNED_CALL, format="json")
    run = started(api.post(f"/api/workflows/{wf.pk}/runs",
                           {"mode": "step", "node": "check"}, format="json"))
    assert outputs(run)["check"] == {"seen": "pinned", "x": 2}
    assert api_server.count("/count") == 1
    assert run.test["pinned"] == ["call"]


def test_run_from_a_node(client_for, api_server):
    owner = UserFactory()
    wf = counted_workflow(owner, api_server)
    first = run_now(wf, {"x": 7})
    run = started(client_for(owner).post(f"/api/workflows/{wf.pk}/runs",
                                         {"mode": "from", "node": "check", "from_run": first.pk},
                                         format="json"))
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert api_server.count("/count") == 1
    assert outputs(run)["after"] == "server"  # the rest ran
    assert run.test["reused"] == {"trigger": first.pk, "call": first.pk}
    assert run.test["only"] is None


def test_a_step_on_a_pinned_node_runs_it(client_for, api_server):
    owner = UserFactory()
    wf = counted_workflow(owner, api_server)
    api = client_for(owner)
    api.put(f"/api/workflows/{wf.pk}/pins/call", PINNED_CALL, format="json")
    run = started(api.post(f"/api/workflows/{wf.pk}/runs",
                           {"mode": "step", "node": "call", "input": {}}, format="json"))
    assert api_server.count("/count") == 1
    assert outputs(run)["call"]["body"]["source"] == "server"


def test_a_failed_test_run_is_not_retried_and_starts_no_error_workflow(client_for, api_server):
    owner = UserFactory()
    alarm = make_workflow(owner=owner)
    wf = make_workflow(owner=owner, error_workflow=alarm, definition=simple_definition(
        {"id": "boom", "type": "transform", "config": {"expression": "{{ 1 / 0 }}"}}))
    api = client_for(owner)
    run = started(api.post(f"/api/workflows/{wf.pk}/runs", {"mode": "workflow"},
                           format="json"))
    assert run.status == Run.Status.FAILED
    assert run.error_node_id == "boom"
    assert not Run.objects.filter(workflow=alarm).exists()
    answer = api.post(f"/api/runs/{run.pk}/retry", {"mode": "from_start"}, format="json")
    assert answer.status_code == 409
    assert "test run" in answer.json()["message"]


@pytest.mark.parametrize(("body", "field"), [
    ({"mode": "sideways"}, "mode"),
    ({"mode": "step"}, "node"),
    ({"mode": "from", "node": "nope"}, "node"),
    ({"node": "check"}, "mode"),
    ({"mode": "step", "node": "check", "from_run": 999999}, "from_run"),
])
def test_bad_test_runs_answer_400_naming_the_field(client_for, api_server, body, field):
    owner = UserFactory()
    wf = counted_workflow(owner, api_server)
    answer = client_for(owner).post(f"/api/workflows/{wf.pk}/runs", body, format="json")
    assert answer.status_code == 400, answer.content
    assert field in answer.json()["fields"], answer.json()
    assert not Run.objects.filter(workflow=wf).exists()


def test_from_run_of_another_workflow_is_refused(client_for, api_server):
    owner = UserFactory()
    wf, other = counted_workflow(owner, api_server), make_workflow(owner=owner)
    elsewhere = run_now(other, {})
    answer = client_for(owner).post(f"/api/workflows/{wf.pk}/runs", {
        "mode": "step", "node": "check", "from_run": elsewhere.pk}, format="json")
    assert answer.status_code == 400
    assert "from_run" in answer.json()["fields"]


def test_test_runs_need_the_run_right(client_for, api_server):
    owner, viewer, stranger = UserFactory(), UserFactory(), UserFactory()
    wf = counted_workflow(owner, api_server)
    Membership.objects.create(project=wf.project, user=viewer, role=Role.VIEWER)
    body = {"mode": "step", "node": "check"}
    url = f"/api/workflows/{wf.pk}/runs"
    assert client_for(viewer).post(url, body, format="json").status_code == 403
    assert client_for(stranger).post(url, body, format="json").status_code == 404
