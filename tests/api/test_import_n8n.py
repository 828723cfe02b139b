"""POST /api/workflows/import-n8n and `manage.py import_n8n`, including abuse: malformed
exports, huge files, unknown nodes, expressions trying to escape."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Membership, Role
from accounts.services import project_create
from runs.models import Run
from tests.factories import UserFactory, make_workflow, run_now
from workflows.models import Workflow

pytestmark = pytest.mark.django_db

URL = "/api/workflows/import-n8n"
FIXTURES = Path(__file__).parent.parent / "n8n_import" / "fixtures"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def test_import_creates_an_inactive_workflow_with_the_report(api, user):
    answer = api.post(URL, {"workflow": fixture("01_webhook_set_respond")}, format="json")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["workflow"]["name"] == "Greet a caller"
    assert body["workflow"]["is_active"] is False
    assert body["report"]["summary"]["converted"] == 3
    workflow = Workflow.objects.get(pk=body["workflow"]["id"])
    assert workflow.owner == user
    run = run_now(workflow, input={"name": "Ada", "n": 1})
    assert run.status == Run.Status.SUCCEEDED, run.error


def test_a_cli_export_list_of_one_workflow_is_imported_and_of_many_refused(api):
    one = api.post(URL, {"workflow": [fixture("03_switch_rules")]}, format="json")
    assert one.status_code == 201
    assert one.json()["workflow"]["name"] == "Route by plan"
    many = api.post(URL, {"workflow": [fixture("03_switch_rules")] * 2}, format="json")
    assert many.status_code == 400
    assert "2 workflows" in many.json()["message"]


def test_dry_run_creates_nothing(api):
    answer = api.post(URL, {"workflow": fixture("10_unknown_nodes"), "dry_run": True},
                      format="json")
    assert answer.status_code == 200
    report = answer.json()["report"]
    assert report["summary"]["not_converted"] == 3
    assert any("ai_languageModel" in note for note in report["notes"])
    assert not Workflow.objects.exists()


def test_into_a_team_project_needs_the_edit_role(client_for, user):
    team = project_create(name="team", creator=user)
    viewer = UserFactory()
    Membership.objects.create(project=team, user=viewer, role=Role.VIEWER)
    body = {"workflow": fixture("01_webhook_set_respond"), "project": team.pk}
    assert client_for(user).post(URL, body, format="json").status_code == 201
    refused = client_for(viewer).post(URL, body, format="json")
    assert refused.status_code in (400, 403)
    assert Workflow.objects.filter(project=team).count() == 1


def test_workflow_map_must_name_workflows_you_may_run(api, other_user):
    theirs = make_workflow(owner=other_user)
    answer = api.post(URL, {"workflow": fixture("07_execute_workflow"),
                            "workflow_map": {"Ab12Cd34": theirs.pk}}, format="json")
    assert answer.status_code == 400
    assert "workflow_map" in answer.json()["fields"]


@pytest.mark.parametrize(("workflow", "field"), [
    ([], ""),
    ("text", ""),
    ({}, "nodes"),
    ({"nodes": []}, "nodes"),
    ({"nodes": "x"}, "nodes"),
    ({"nodes": [1]}, "nodes[0]"),
    ({"nodes": [{"name": "A"}]}, "nodes[0].type"),
    ({"nodes": [{"name": "", "type": "n8n-nodes-base.noOp"}]}, "nodes[0].name"),
    ({"nodes": [{"name": "A", "type": "n8n-nodes-base.noOp"},
                {"name": "A", "type": "n8n-nodes-base.noOp"}]}, "nodes[1].name"),
    ({"nodes": [{"name": "A", "type": "n8n-nodes-base.noOp", "parameters": []}]},
     "nodes[0].parameters"),
    ({"nodes": [{"name": "A", "type": "n8n-nodes-base.noOp"}], "connections": []},
     "connections"),
    ({"nodes": [{"name": f"n{i}", "type": "n8n-nodes-base.noOp"} for i in range(501)]},
     "nodes"),
])
def test_malformed_exports_are_400_naming_the_field(api, workflow, field):
    answer = api.post(URL, {"workflow": workflow}, format="json")
    assert answer.status_code == 400, answer.content
    body = answer.json()
    assert body["code"] == "invalid_n8n_workflow"
    assert body["field"] == field
    assert not Workflow.objects.exists()


def test_a_missing_or_huge_body_is_refused(api):
    assert api.post(URL, {}, format="json").status_code == 400
    huge = {"nodes": [{"name": "A", "type": "n8n-nodes-base.noOp",
                       "parameters": {"pad": "x" * 5_300_000}}]}
    answer = api.post(URL, {"workflow": huge}, format="json")
    assert answer.status_code in (400, 413)
    assert not Workflow.objects.exists()


def test_unknown_nodes_and_garbage_parameters_become_placeholders(api):
    data = {"name": "odd", "nodes": [
        {"name": "Hook", "type": "n8n-nodes-base.webhook", "parameters": {}},
        {"name": "Weird", "type": "n8n-nodes-base.httpRequest", "typeVersion": "four",
         "parameters": {"url": 5, "queryParameters": {"parameters": "nope"}}},
        {"name": "Custom", "type": "n8n-nodes-acme.thing", "parameters": {"a": {"b": [1]}}},
        {"name": "Sched", "type": "n8n-nodes-base.scheduleTrigger",
         "parameters": {"rule": {"interval": [{"field": "hours", "hoursInterval": "x"}]}}},
    ], "connections": {"Hook": {"main": [[{"node": "Weird"}, {"node": "Nowhere"}], "bad"]},
                       "Ghost": {"main": [[{"node": "Hook"}]]}}}
    answer = api.post(URL, {"workflow": data}, format="json")
    assert answer.status_code == 201, answer.content
    statuses = {n["name"]: n["status"] for n in answer.json()["report"]["nodes"]}
    assert statuses == {"Hook": "converted", "Weird": "not_converted",
                        "Custom": "not_converted", "Sched": "not_converted"}


@pytest.mark.parametrize("value", [
    "={{ __import__('os').system('id') }}",
    "={{ $json.a }}}} {{ open('/etc/passwd').read() }}",
    "={{ this.constructor.constructor('return process')() }}",
    "={{ ''.__class__.__mro__ }}",
    "{{ __import__('os').getcwd() }}",
    "={{ \"}}{{ 1/0 }}\" }}",
])
def test_expressions_cannot_escape_the_sandbox_or_the_template(api, user, value):
    data = {"name": "inject", "nodes": [
        {"name": "Hook", "type": "n8n-nodes-base.webhook", "parameters": {}},
        {"name": "Set", "type": "n8n-nodes-base.set", "typeVersion": 3.4, "parameters": {
            "assignments": {"assignments": [{"name": "x", "value": value, "type": "string"}]}}},
    ], "connections": {"Hook": {"main": [[{"node": "Set"}]]}}}
    answer = api.post(URL, {"workflow": data}, format="json")
    assert answer.status_code == 201, answer.content
    run = run_now(Workflow.objects.get(pk=answer.json()["workflow"]["id"]), input={"a": 1})
    if run.status == Run.Status.SUCCEEDED:
        assert isinstance(run.result["x"], str)
        assert "root:" not in run.result["x"]
    else:
        assert "node 'set'" in run.error


def test_the_command_imports_and_reports(tmp_path, user):
    team = project_create(name="team", creator=user)
    out = StringIO()
    call_command("import_n8n", str(FIXTURES / "08_expressions.json"), "--as", user.email,
                 "--project", str(team.pk), stdout=out)
    text = out.getvalue()
    assert "Nodes: 3 converted, 0 not converted" in text
    assert "$env.API_TOKEN" in text
    assert "Created workflow" in text
    assert Workflow.objects.get(project=team).is_active is False
    dry = StringIO()
    call_command("import_n8n", str(FIXTURES / "02_schedule_http_if.json"), "--dry-run",
                 "--json", stdout=dry)
    assert json.loads(dry.getvalue())["credentials"][0]["kind"] == "api_key_header"
    assert Workflow.objects.count() == 1


def test_the_command_refuses_bad_files_and_users(tmp_path, user):
    missing = tmp_path / "missing.json"
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_n8n", str(missing), "--as", user.email)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(CommandError, match="not JSON"):
        call_command("import_n8n", str(bad), "--as", user.email)
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (5 * 1024 * 1024 + 1))
    with pytest.raises(CommandError, match="larger than"):
        call_command("import_n8n", str(big), "--as", user.email)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"nodes": [{"name": "A"}]}))
    with pytest.raises(CommandError, match=r"nodes\[0\]\.type"):
        call_command("import_n8n", str(wrong), "--as", user.email)
    with pytest.raises(CommandError, match="no user"):
        call_command("import_n8n", str(FIXTURES / "01_webhook_set_respond.json"),
                     "--as", "nobody@example.com")
    other = project_create(name="other", creator=UserFactory())
    with pytest.raises(CommandError, match="cannot add"):
        call_command("import_n8n", str(FIXTURES / "01_webhook_set_respond.json"),
                     "--as", user.email, "--project", str(other.pk))
    assert not Workflow.objects.exists()
