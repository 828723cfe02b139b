"""Project variables: `vars.<key>` in expressions, CRUD scoped to the project (API and admin),
values that are data and never evaluated."""

import pytest
from django.test import Client

from accounts.access import personal_project
from accounts.models import Membership, Role
from accounts.services import project_create
from runs.models import Run
from tests.factories import UserFactory, make_workflow, run_now, simple_definition
from workflows.models import Variable
from workflows.variables import variable_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(user):
    return project_create(name="team", creator=user)


def test_expressions_read_the_project_s_variables(user, team, api_server):
    api_server.json("GET", "/v1/orders", {"orders": [1]})
    variable_create(project=team, key="api_base", value=api_server.url + "/v1")
    variable_create(project=team, key="greeting", value="Hello, ")
    other = project_create(name="other", creator=user)
    variable_create(project=other, key="other_value", value="not yours")
    definition = simple_definition(
        {"id": "call", "type": "http", "config": {"url": "{{ vars.api_base }}/orders"}},
        {"id": "out", "type": "transform", "config": {"mapping": {
            "hi": "{{ vars.greeting + trigger.name }}",
            "count": "len(nodes.call.body.orders)",
            "others": "vars.get('other_value')"}}})
    run = run_now(make_workflow(owner=user, project=team, definition=definition),
                  input={"name": "Ada"})
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.result == {"hi": "Hello, Ada", "count": 1, "others": None}


@pytest.mark.parametrize("value", ["{{ __import__('os').getcwd() }}", "{{ run.id }}",
                                   "{{ vars.loop }}", "{% raw %}{{ 1/0 }}"])
def test_a_value_is_data_never_an_expression(user, value):
    project = personal_project(user)
    variable_create(project=project, key="loop", value=value)
    definition = simple_definition(
        {"id": "out", "type": "transform", "config": {"expression": "{{ vars.loop }}"}},
        {"id": "text", "type": "transform",
         "config": {"mapping": {"t": "{{ 'got: ' + vars.loop }}"}}})
    run = run_now(make_workflow(owner=user, definition=definition))
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.result == {"t": "got: " + value}


def test_a_workflow_without_vars_makes_no_variable_query(user, django_assert_num_queries):
    from runs.engine.executor import RunExecution
    from runs.services import run_start

    workflow = make_workflow(owner=user, definition=simple_definition(
        {"id": "t", "type": "transform", "config": {"expression": "input"}}))
    run = run_start(workflow=workflow, input={}, trigger="manual", execute=False)
    execution = RunExecution(run)
    with django_assert_num_queries(0):
        assert execution.project_vars == {}


def test_api_crud_in_a_project(api, user, team):
    created = api.post("/api/variables", {"key": "region", "value": "eu", "project": team.pk},
                       format="json")
    assert created.status_code == 201, created.content
    vid = created.json()["id"]
    assert created.json()["value"] == "eu"
    listed = api.get("/api/variables", {"project": team.pk}).json()
    assert [v["key"] for v in listed["results"]] == ["region"]
    assert api.patch(f"/api/variables/{vid}", {"value": "us"}, format="json").json()["value"] \
        == "us"
    mine = api.post("/api/variables", {"key": "region"}, format="json")  # personal project
    assert mine.status_code == 201
    assert mine.json()["project"] == personal_project(user).pk
    assert api.delete(f"/api/variables/{vid}").status_code == 204
    assert not Variable.objects.filter(pk=vid).exists()


@pytest.mark.parametrize(("body", "field"), [
    ({"key": "1abc"}, "key"),
    ({"key": "has-dash"}, "key"),
    ({"key": "_private"}, "key"),
    ({"key": "k" * 65}, "key"),
    ({"key": "api_key", "value": "sk-live"}, "key"),
    ({"key": "db_password"}, "key"),
    ({"key": "github_token"}, "key"),
    ({}, "key"),
    ({"key": "ok", "value": "v" * 10_001}, "value"),
    ({"key": "ok", "value": {"a": 1}}, "value"),
    ({"key": "ok", "project": 999_999}, "project"),
    ({"key": "ok", "secret": "x"}, "secret"),
])
def test_bad_variables_are_400_naming_the_field(api, body, field):
    answer = api.post("/api/variables", body, format="json")
    assert answer.status_code == 400, answer.content
    assert field in str(answer.json())


def test_a_duplicate_key_in_a_project_is_400(api, team):
    assert api.post("/api/variables", {"key": "k", "project": team.pk},
                    format="json").status_code == 201
    again = api.post("/api/variables", {"key": "k", "project": team.pk}, format="json")
    assert again.status_code == 400
    assert again.json()["field"] == "key"


def test_roles_decide_who_reads_and_writes(client_for, user, team):
    viewer, outsider = UserFactory(), UserFactory()
    Membership.objects.create(project=team, user=viewer, role=Role.VIEWER)
    variable = variable_create(project=team, key="k", value="v")
    as_viewer, as_outsider = client_for(viewer), client_for(outsider)
    assert as_viewer.get(f"/api/variables/{variable.pk}").json()["value"] == "v"
    assert as_viewer.patch(f"/api/variables/{variable.pk}", {"value": "x"},
                           format="json").status_code == 403
    refused = as_viewer.post("/api/variables", {"key": "n", "project": team.pk}, format="json")
    assert refused.status_code in (400, 403)
    assert as_outsider.get(f"/api/variables/{variable.pk}").status_code == 404
    assert as_outsider.get("/api/variables").json()["count"] == 0


def test_the_expression_check_sees_the_workflow_s_variables(api, other_api, user, team):
    variable_create(project=team, key="limit", value="10")
    workflow = make_workflow(owner=user, project=team)
    body = {"expression": "{{ int(vars.limit) > 5 }}", "kind": "expression",
            "workflow": workflow.pk}
    assert api.post("/api/expressions/check", body, format="json").json()["value"] is True
    assert other_api.post("/api/expressions/check", body, format="json").status_code == 404


def test_the_admin_adds_and_refuses_like_the_api(user, team):
    staff = UserFactory(is_staff=True)
    Membership.objects.create(project=team, user=staff, role=Role.EDITOR)
    client = Client()
    client.force_login(staff)
    bad = client.post("/admin/workflows/variable/add/",
                      {"project": team.pk, "key": "2bad", "value": "x"})
    assert bad.status_code == 200
    assert b"starting with a letter" in bad.content
    good = client.post("/admin/workflows/variable/add/",
                       {"project": team.pk, "key": "good", "value": "x"})
    assert good.status_code == 302
    assert Variable.objects.get(project=team, key="good").value == "x"


def test_the_code_node_reads_vars_too(user):
    project = personal_project(user)
    variable_create(project=project, key="rate", value="0.2")
    definition = simple_definition({"id": "c", "type": "code", "config": {
        "code": "result = round(input['amount'] * float(vars.rate), 2)"}})
    run = run_now(make_workflow(owner=user, definition=definition), input={"amount": 50})
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.result == 10.0
