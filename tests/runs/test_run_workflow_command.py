import json
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Membership, Role
from accounts.services import project_create
from tests.factories import UserFactory, make_workflow, simple_definition
from workflows.services import workflow_update

pytestmark = pytest.mark.django_db


def run_cmd(*args):
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("run_workflow", *args, stdout=out, stderr=err)
    return exit_info.value.code, out.getvalue(), err.getvalue()


def workflow(expression="input.n * 2", name="doubler"):
    return make_workflow(name=name, definition=simple_definition(
        {"id": "double", "type": "transform", "config": {"expression": expression}}))


def test_success_prints_each_node_and_result_exit_0():
    wf = workflow()
    code, out, _ = run_cmd("doubler", "--input", '{"n": 21}')
    assert code == 0
    assert "ok  trigger [webhook]" in out
    assert "ok  double [transform]" in out
    assert "output: 42" in out
    assert "succeeded" in out
    assert out.strip().endswith("Result: 42")
    code, out, _ = run_cmd(str(wf.pk), "--input", '{"n": 1}')
    assert code == 0


def test_failure_exit_1_with_reason():
    workflow(expression="1/0")
    code, out, _ = run_cmd("doubler")
    assert code == 1
    assert "FAILED  double" in out
    assert "division by zero" in out


def test_json_output_has_run_and_logs():
    workflow()
    code, out, _ = run_cmd("doubler", "--input", '{"n": 2}', "--json")
    data = json.loads(out)
    assert code == 0
    assert data["status"] == "succeeded"
    assert data["result"] == 4
    assert [log["node_id"] for log in data["logs"]] == ["trigger", "double"]
    assert data["logs"][1]["input"] == {"n": 2}
    assert data["logs"][1]["duration_ms"] is not None


def test_input_file(tmp_path):
    workflow()
    path = tmp_path / "in.json"
    path.write_text('{"n": 5}')
    code, out, _ = run_cmd("doubler", "--input-file", str(path))
    assert code == 0
    assert "Result: 10" in out


@pytest.mark.parametrize(("args", "reason"), [
    (["nope"], "no workflow with id or name 'nope'"),
    (["doubler", "--input", "{bad"], "--input is not valid JSON"),
    (["doubler", "--input-file", "/nonexistent.json"], "cannot read /nonexistent.json"),
])
def test_bad_arguments_exit_2_with_one_line_reason(args, reason):
    workflow()
    code, _, err = run_cmd(*args)
    assert code == 2
    assert reason in err
    assert len(err.strip().splitlines()) == 1


def test_ambiguous_name_exit_2():
    workflow()
    workflow()
    code, _, err = run_cmd("doubler")
    assert code == 2
    assert "several workflows" in err


def test_as_a_user_only_their_workflows_and_only_with_a_role_that_runs():
    owner, viewer, outsider = UserFactory(), UserFactory(), UserFactory()
    team = project_create(name="team", creator=owner)
    Membership.objects.create(project=team, user=viewer, role=Role.VIEWER)
    wf = workflow()
    workflow_update(workflow=wf, user=owner, project=team)
    code, out, _ = run_cmd("doubler", "--input", '{"n": 2}', "--as", owner.email)
    assert code == 0
    assert "Result: 4" in out
    code, _, err = run_cmd("doubler", "--as", outsider.email)
    assert code == 2
    assert "no workflow with id or name 'doubler'" in err
    code, _, err = run_cmd(str(wf.pk), "--as", outsider.email)
    assert code == 2
    code, _, err = run_cmd("doubler", "--as", viewer.email)
    assert code == 2
    assert "role does not allow running 'doubler'" in err
    code, _, err = run_cmd("doubler", "--as", "ghost@example.com")
    assert code == 2
    assert "no active user 'ghost@example.com'" in err
    assert wf.runs.count() == 1
