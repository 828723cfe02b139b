"""The AI templates of the gallery (workflows/gallery/): each validates and is offered, and
each runs as a user fills it in, against the loopback model server (the openai
SDK for embeddings and chat, tool calls for the agent) and a loopback HTTP API."""

import json
from pathlib import Path

import pytest

from nodes.registry import registry
from tests.factories import make_workflow, run_now
from tests.llm_servers import AgentServer
from workflows.gallery import available_templates
from workflows.validation import validate_definition

pytestmark = pytest.mark.django_db
GALLERY = Path(__file__).resolve().parents[2] / "workflows" / "gallery"
AI_TEMPLATES = ("rag-ingest", "rag-answer", "agent-workflow-tools", "email-extraction")
KEY = "sk-test"


def load(key):
    return json.loads((GALLERY / f"{key}.json").read_text())


def filled(key, server, **tweak):
    """The template's definition with the model nodes pointed at the loopback server."""
    template = load(key)
    definition = {"name": template["name"], **template["definition"]}
    for node in definition["nodes"]:
        if node["type"] in ("llm", "embeddings", "agent"):
            node["config"].update(base_url=server.url + "/v1", api_key=KEY)
        node["config"].update(tweak.get(node["id"], {}))
    return template, definition


def test_every_ai_template_is_valid():
    paths = [GALLERY / f"{key}.json" for key in AI_TEMPLATES]
    assert set(AI_TEMPLATES) <= {t["key"] for t in available_templates()}
    for path in paths:
        t = json.loads(path.read_text())
        assert set(t) == {"key", "name", "description", "category", "services",
                          "sample_input", "definition"}, path
        assert t["key"] == path.stem
        assert t["category"] == "ai"
        assert set(t["services"]) <= {"http", "llm"}
        assert all(n["type"] in registry for n in t["definition"]["nodes"])
        assert validate_definition({"name": t["name"], **t["definition"]}) == [], path


@pytest.fixture
def server():
    s = AgentServer(api_key=KEY).start()
    yield s
    s.stop()


def test_rag_templates_ingest_then_answer_with_sources(server, user):
    server.embed_with = lambda text: [1.0, 0.0] if "cat" in text.lower() else [0.0, 1.0]
    template, ingest = filled("rag-ingest", server)
    run = run_now(make_workflow(owner=user, definition=ingest), input=template["sample_input"])
    assert run.status == "succeeded", run.error
    assert run.result["count"] == 2
    template, answer = filled("rag-answer", server)
    server.reply(json.dumps({"answer": "When they are happy.", "sources": ["pets.md"]}))
    run = run_now(make_workflow(owner=user, definition=answer),
                  input=template["sample_input"])
    assert run.status == "succeeded", run.error
    assert run.result["data"] == {"answer": "When they are happy.", "sources": ["pets.md"]}
    matches = run.logs.get(node_id="retrieve").output["matches"]
    assert [m["metadata"]["name"] for m in matches] == ["pets.md", "billing.md"]
    prompt = server.requests[-1].json()["messages"][-1]["content"]
    assert "[pets.md] Cats purr when they are happy." in prompt
    assert prompt.endswith("Question: When do cats purr?")


def test_email_extraction_template(server, user):
    template, definition = filled("email-extraction", server)
    data = {"sender": "ada@example.com", "intent": "complaint", "order_number": "1042",
            "requested_date": "12 March", "urgent": True}
    server.reply("{\"sender\": 1}")  # invalid: repaired once
    server.reply(json.dumps(data))
    run = run_now(make_workflow(owner=user, definition=definition),
                  input=template["sample_input"])
    assert run.status == "succeeded", run.error
    assert run.result["data"] == data
    assert "Order 1042 late" in server.requests[0].json()["messages"][-1]["content"]


def test_agent_template_with_a_workflow_tool(server, user, api_server):
    orders = make_workflow(owner=user, name="order status", definition={
        "name": "orders", "nodes": [
            {"id": "trigger", "type": "webhook", "config": {"input_schema": {
                "type": "object", "properties": {"order": {"type": "string"}}}}},
            {"id": "look", "type": "transform", "config": {
                "expression": "{'order': input.order, 'tracking': 'TR-9'}"}}],
        "edges": [{"from": "trigger", "to": "look"}]})
    api_server.json("GET", "/eta", {"days": 9})
    template, definition = filled("agent-workflow-tools", server)
    tools = definition["nodes"][1]["config"]["tools"]
    tools[0]["workflow"] = orders.pk
    tools[1]["config"]["url"] = api_server.url + "/eta?tracking={{ args.tracking }}"
    server.call_tools(("order_status", {"order": "1042"}))
    server.call_tools(("carrier_eta", {"tracking": "TR-9"}), ("business_days", {"days": 9}))
    server.reply("Order 1042 ships with TR-9 and arrives in 7 business days.")
    run = run_now(make_workflow(owner=user, definition=definition),
                  input=template["sample_input"])
    assert run.status == "succeeded", run.error
    assert run.result["content"] == "Order 1042 ships with TR-9 and arrives in 7 business " \
        "days."
    assert run.result["tool_calls"] == 3
    results = server.tool_results(-1)
    assert json.loads(results[0]) == {"order": "1042", "tracking": "TR-9"}
    assert json.loads(results[1])["body"] == {"days": 9}
    assert results[2] == "7"
