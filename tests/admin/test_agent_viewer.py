"""The run viewer shows an agent node's steps (model turns, tool calls) as a nested timeline."""

import pytest
from django.urls import reverse

from runs.admin_views import agent_steps
from tests.factories import make_workflow, run_now, simple_definition
from tests.llm_servers import AgentServer

pytestmark = pytest.mark.django_db


def test_agent_steps_are_nested_under_the_agent_row(staff_client, staff):
    server = AgentServer().start()
    try:
        server.call_tools(("double", {"n": 2}), ("missing", {}))
        server.reply("four")
        wf = make_workflow(owner=staff, definition=simple_definition({
            "id": "agent", "type": "agent", "config": {
                "prompt": "double 2", "base_url": server.url + "/v1", "api_key": "sk-test",
                "model": "m", "tools": [{"name": "double", "kind": "code",
                                         "config": {"code": "result = input['n'] * 2"}}]}}))
        run = run_now(wf, {})
    finally:
        server.stop()
    assert run.status == "succeeded", run.error
    html = staff_client.get(reverse("admin:runs_run_change", args=[run.pk])).content.decode()
    assert 'data-testid="steps-agent"' in html
    assert html.count('data-kind="model"') == 2
    assert html.count('data-kind="tool"') == 2
    assert "model turn 1 → 2 tool call(s)" in html
    assert "tool double" in html
    assert "wf-tl-step-failed" in html  # the unknown tool
    assert "unknown tool &#x27;missing&#x27;" in html


def test_agent_steps_of_odd_outputs_are_empty():
    assert agent_steps(None) == []
    assert agent_steps({"steps": "nope"}) == []
    assert agent_steps({"steps": [1, {"type": "tool", "name": "x", "output": 1}]})[0]["title"] \
        == "tool x"
