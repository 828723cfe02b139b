"""The agent node against a loopback model server speaking OpenAI's and Anthropic's wire formats
with tool calls (tests/llm_servers.py), through the real SDKs: workflow tools (child runs, the
trigger's input_schema as parameters), http and code tools, limits, failing and unknown tools,
the steps timeline and the cost ledger."""

import json

import pytest

from nodes.base import NodeError
from runs.models import ModelCall, Run
from tests.factories import make_workflow, run_now
from tests.llm_servers import AgentServer
from workflows.validation import validate_definition

pytestmark = pytest.mark.django_db
KEY = "sk-agent-secret-1234"


@pytest.fixture
def server():
    s = AgentServer(api_key=KEY).start()
    yield s
    s.stop()


def agent(server, provider="openai", **config):
    base = server.url + ("/v1" if provider == "openai" else "")
    return {"id": "agent", "type": "agent", "config": {
        "prompt": "{{ input.question }}", "base_url": base, "api_key": KEY,
        "provider": provider, "model": "test-model", **config}}


def definition(*nodes, trigger_config=None):
    all_nodes = [{"id": "trigger", "type": "webhook", "config": trigger_config or {}}, *nodes]
    edges = [{"from": a["id"], "to": b["id"]}
             for a, b in zip(all_nodes, all_nodes[1:], strict=False)]
    return {"name": "t", "nodes": all_nodes, "edges": edges}


WEATHER_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}},
                  "required": ["city"]}


def weather_workflow(user):
    return make_workflow(owner=user, name="weather", description="Weather for a city",
                         definition=definition(
                             {"id": "w", "type": "transform",
                              "config": {"expression": "{'city': input.city, 'sky': 'sunny'}"}},
                             trigger_config={"input_schema": WEATHER_SCHEMA}))


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_workflow_tool_runs_a_child_and_its_result_goes_back(server, user, provider):
    tool_wf = weather_workflow(user)
    server.call_tools(("weather", {"city": "Paris"}), prompt_tokens=20, completion_tokens=5)
    server.reply("It is sunny in Paris.", prompt_tokens=40, completion_tokens=6)
    wf = make_workflow(owner=user, definition=definition(agent(
        server, provider, tools=[{"name": "weather", "kind": "workflow",
                                  "workflow": tool_wf.pk}])))
    run = run_now(wf, input={"question": "Weather in Paris?"})
    assert run.status == "succeeded", run.error
    out = run.result
    assert out["content"] == "It is sunny in Paris."
    assert (out["iterations"], out["tool_calls"], out["provider"]) == (2, 1, provider)
    assert [s["type"] for s in out["steps"]] == ["model", "tool", "model"]
    tool_step = out["steps"][1]
    assert tool_step["name"] == "weather"
    assert tool_step["input"] == {"city": "Paris"}
    assert tool_step["output"] == {"city": "Paris", "sky": "sunny"}
    child = Run.objects.get(parent_run=run)
    assert (child.workflow_id, child.input) == (tool_wf.pk, {"city": "Paris"})
    # the model saw the tool declared with the trigger's input schema and the workflow's
    # description, and got the result back on the next turn
    first = server.requests[0].json()
    tools = first["tools"]
    if provider == "openai":
        assert tools[0]["function"] == {"name": "weather", "description": "Weather for a city",
                                        "parameters": WEATHER_SCHEMA}
    else:
        assert tools[0] == {"name": "weather", "description": "Weather for a city",
                            "input_schema": WEATHER_SCHEMA}
    assert json.loads(server.tool_results(1)[0]) == {"city": "Paris", "sky": "sunny"}
    # the ledger: one ModelCall per model turn, summed on the run
    calls = ModelCall.objects.filter(run=run).order_by("id")
    assert [(c.prompt_tokens, c.completion_tokens) for c in calls] == [(20, 5), (40, 6)]
    assert out["usage"]["prompt_tokens"] == 60
    assert out["usage"]["completion_tokens"] == 11


def test_http_and_code_tools(server, user, api_server):
    api_server.json("GET", "/w", {"temp": 21})
    server.call_tools(("lookup", {"city": "Oslo"}), ("double", {"n": 21}))
    server.reply("done")
    wf = make_workflow(owner=user, definition=definition(agent(server, tools=[
        {"name": "lookup", "kind": "http", "description": "Looks a city up",
         "parameters": WEATHER_SCHEMA,
         "config": {"url": api_server.url + "/w?city={{ args.city }}"}},
        {"name": "double", "kind": "code", "description": "Doubles n",
         "parameters": {"type": "object", "properties": {"n": {"type": "integer"}}},
         "config": {"code": "result = input['n'] * 2"}},
    ])))
    run = run_now(wf, input={"question": "go"})
    assert run.status == "succeeded", run.error
    steps = run.result["steps"]
    assert steps[1]["output"]["body"] == {"temp": 21}
    assert api_server.requests[-1].path == "/w?city=Oslo"
    assert steps[2]["output"] == 42
    assert server.tool_results(1)[1] == "42"


def test_iteration_limit_fails_with_the_steps_so_far(server, user):
    for _ in range(3):
        server.call_tools(("double", {"n": 1}))
    wf = make_workflow(owner=user, definition=definition(agent(server, max_iterations=2, tools=[
        {"name": "double", "kind": "code", "config": {"code": "result = 2"}}])))
    run = run_now(wf, input={"question": "loop"})
    assert run.status == "failed"
    assert run.error_node_id == "agent"
    assert "limit of 2 model turns" in run.error
    log = run.logs.get(node_id="agent")
    assert [s["type"] for s in log.output["steps"]] == ["model", "tool", "model", "tool"]
    assert server.count("/v1/chat/completions") == 2


def test_tool_call_limit(server, user):
    server.call_tools(("double", {}), ("double", {}))
    wf = make_workflow(owner=user, definition=definition(agent(server, max_tool_calls=1, tools=[
        {"name": "double", "kind": "code", "config": {"code": "result = 2"}}])))
    run = run_now(wf, input={"question": "x"})
    assert run.status == "failed"
    assert "limit of 1 tool calls" in run.error


def test_failing_and_unknown_tools_are_reported_back_to_the_model(server, user):
    server.call_tools(("boom", {}), ("nope", {"a": 1}), ("typed", {"n": "not a number"}))
    server.reply("sorry")
    wf = make_workflow(owner=user, definition=definition(agent(server, tools=[
        {"name": "boom", "kind": "code", "config": {"code": "result = 1 / 0"}},
        {"name": "typed", "kind": "code", "config": {"code": "result = 1"},
         "parameters": {"type": "object", "properties": {"n": {"type": "integer"}}}}])))
    run = run_now(wf, input={"question": "x"})
    assert run.status == "succeeded", run.error
    results = server.tool_results(1)
    assert results[0].startswith("Error: ")
    assert "ZeroDivisionError" in results[0]
    assert results[1] == "Error: unknown tool 'nope'; the tools are: boom, typed"
    assert "invalid arguments at /n" in results[2]
    steps = run.result["steps"]
    assert all("error" in s for s in steps if s["type"] == "tool")
    assert KEY not in json.dumps(run.result)


def test_anthropic_is_told_a_tool_failed_with_is_error(server, user):
    """Anthropic's tool_result carries `is_error: true` for a failed tool (its documented way
    to say so), and not for one that worked."""
    server.call_tools(("boom", {}), ("fine", {}))
    server.reply("sorry")
    wf = make_workflow(owner=user, definition=definition(agent(server, "anthropic", tools=[
        {"name": "boom", "kind": "code", "config": {"code": "result = 1 / 0"}},
        {"name": "fine", "kind": "code", "config": {"code": "result = 7"}}])))
    run = run_now(wf, input={"question": "x"})
    assert run.status == "succeeded", run.error
    blocks = [b for m in server.requests[1].json()["messages"]
              if isinstance(m.get("content"), list) for b in m["content"]
              if b.get("type") == "tool_result"]
    assert [(b["tool_use_id"], b.get("is_error")) for b in blocks] == [
        ("toolu_0", True), ("toolu_1", None)]
    assert "ZeroDivisionError" in blocks[0]["content"]
    assert blocks[1]["content"] == "7"


def test_a_failing_tool_can_fail_the_node(server, user):
    child = make_workflow(owner=user, name="broken", definition=definition(
        {"id": "boom", "type": "transform", "config": {"expression": "1 // 0"}}))
    server.call_tools(("broken", {}))
    wf = make_workflow(owner=user, definition=definition(agent(
        server, on_tool_error="fail",
        tools=[{"name": "broken", "kind": "workflow", "workflow": child.pk}])))
    run = run_now(wf, input={"question": "x"})
    assert run.status == "failed"
    assert "failed: tool 'broken' failed: workflow 'broken' (run " in run.error
    assert "at node 'boom'" in run.error


def test_a_workflow_of_another_project_is_not_a_tool(server, user, other_user):
    foreign = weather_workflow(other_user)
    wf = make_workflow(owner=user, definition=definition(agent(
        server, tools=[{"name": "w", "kind": "workflow", "workflow": foreign.pk}])))
    run = run_now(wf, input={"question": "x"})
    assert run.status == "failed"
    assert f"no workflow {foreign.pk} in this workflow's project" in run.error
    assert server.count("/v1/chat/completions") == 0


def test_a_wrong_key_fails_without_the_key_in_the_message(server, user):
    wf = make_workflow(owner=user, definition=definition(agent(server, api_key="sk-wrong-987")))
    run = run_now(wf, input={"question": "x"})
    assert run.status == "failed"
    assert "sk-wrong-987" not in run.error
    assert "sk-wrong-987" not in json.dumps(run.logs.get(node_id="agent").output)


@pytest.mark.parametrize(("tools", "field"), [
    ([{"name": "bad name!", "kind": "code", "config": {}}], "name"),
    ([{"name": "w", "kind": "workflow"}], "workflow"),
    ([{"name": "a", "kind": "code"}, {"name": "a", "kind": "code"}], "unique"),
    ([{"name": "a", "kind": "code", "parameters": {"type": 5}}], "JSON Schema"),
    ([{"name": "a", "kind": "shell"}], "kind"),
])
def test_bad_tool_configs_are_refused_at_save(tools, field):
    problems = validate_definition(definition(
        {"id": "agent", "type": "agent", "config": {"prompt": "x", "tools": tools}}))
    assert any(field in str(p) for p in problems), problems


def test_bad_trigger_input_schema_is_refused():
    problems = validate_definition(definition(trigger_config={"input_schema": {"type": 5}}))
    assert any("input_schema" in str(p) for p in problems), problems


def test_a_budget_stops_a_looping_agent(server):
    """The agent checks the budget before every model turn (the meter the engine hands it):
    a model that keeps calling tools is stopped when the month's tokens would pass the limit,
    naming the budget, before the call is made."""
    from decimal import Decimal

    from nodes.registry import registry
    from runs.engine.context import EngineContext
    from runs.engine.metering import Budget, UsageMeter

    for _ in range(10):
        server.call_tools(("noop", {}), prompt_tokens=300, completion_tokens=20)
    meter = UsageMeter(budgets=[Budget(scope="workflow", object_id=1, name="bot",
                                       kind="tokens", limit=Decimal(1000),
                                       used=Decimal(0))])
    ctx = EngineContext(node_id="agent", node_type="agent", names={"input": {}}, meter=meter)
    cls = registry.get("agent")
    config = cls.Config.model_validate({
        "prompt": "loop", "base_url": server.url + "/v1", "api_key": KEY, "model": "m",
        "max_tokens": 100, "max_iterations": 50,
        "tools": [{"name": "noop", "kind": "http", "config": {"url": server.url + "/x"}}]})
    with pytest.raises(NodeError) as failed:
        cls().run(ctx, config, None)
    assert "the workflow 'bot''s monthly tokens budget" in str(failed.value)
    assert "the call was not made" in str(failed.value)
    turns = server.count("/v1/chat/completions")
    assert 1 < turns < 10  # stopped part-way: the budget, not the script, ended the loop
    assert sum(e["prompt_tokens"] + e["completion_tokens"] for e in meter.entries) <= 1000
    steps = failed.value.output["steps"]
    assert [s["type"] for s in steps] == ["model", "tool"] * (turns)
    assert failed.value.output["usage"]["prompt_tokens"] == 300 * turns


def test_a_database_node_as_a_tool(server, settings, tmp_path):
    """A `database` node configured as a tool: the model's argument reaches the SQL as a
    parameter (never in the statement), the rows go back to the model."""
    import sqlite3

    from nodes.registry import registry
    from runs.engine.context import EngineContext

    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
        conn.executemany("INSERT INTO items (name) VALUES (?)", [("pen",), ("ink",)])
    conn.close()
    settings.WFAIB = {**settings.WFAIB, "SQLITE_DIRS": [str(tmp_path)]}
    server.call_tools(("find_item", {"name": "ink' OR 1=1 --"}), ("find_item", {"name": "pen"}))
    server.reply("pen is item 1")
    ctx = EngineContext(node_id="agent", node_type="agent", names={"input": {}},
                        credentials=lambda ref: {"id": 1, "name": "shop", "kind": "database",
                                                 "data": {"url": "sqlite:///shop.db"}})
    cls = registry.get("agent")
    config = cls.Config.model_validate({
        "prompt": "find", "base_url": server.url + "/v1", "api_key": KEY, "model": "m",
        "tools": [{"name": "find_item", "kind": "database", "description": "Items by name",
                   "parameters": {"type": "object", "required": ["name"],
                                  "properties": {"name": {"type": "string"}}},
                   "config": {"credential": "shop",
                              "query": "SELECT id, name FROM items WHERE name = :name",
                              "parameters": {"name": "{{ args.name }}"}}}]})
    output = cls().run(ctx, config, None)
    assert output["content"] == "pen is item 1"
    injected, found = (s["output"] for s in output["steps"] if s["type"] == "tool")
    assert injected["rows"] == []
    assert found["rows"] == [{"id": 1, "name": "pen"}]
    assert json.loads(server.tool_results(-1)[1])["rows"] == [{"id": 1, "name": "pen"}]
