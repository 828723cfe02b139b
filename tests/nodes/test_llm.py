import pytest

from tests.factories import make_workflow, run_now, simple_definition

pytestmark = pytest.mark.django_db


def llm_node(server, **config):
    return {"id": "ask", "type": "llm", "config": {
        "prompt": "Summarise {{ input.text }}", "base_url": server.url + "/v1",
        "api_key": "sk-test", "model": "test-model", **config}}


def test_completion_against_openai_compatible_server(llm_server):
    run = run_now(make_workflow(definition=simple_definition(
        llm_node(llm_server, system_prompt="Be brief", temperature=0.2, max_tokens=50))),
        input={"text": "the news"})
    assert run.status == "succeeded", run.error
    assert run.result["content"] == "echo: Summarise the news [system: Be brief]"
    assert run.result["model"] == "test-model"
    assert run.result["finish_reason"] == "stop"
    assert run.result["usage"]["total_tokens"] == (run.result["usage"]["prompt_tokens"]
                                                   + run.result["usage"]["completion_tokens"])
    body = llm_server.requests[-1].json()
    assert body["temperature"] == 0.2
    assert body["max_tokens"] == 50


def test_api_key_from_environment(llm_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    run = run_now(make_workflow(definition=simple_definition(llm_node(llm_server, api_key=""))),
                  input={"text": "x"})
    assert run.status == "succeeded", run.error


def test_wrong_key_fails_with_server_reason(llm_server):
    run = run_now(make_workflow(definition=simple_definition(llm_node(llm_server, api_key="bad"))),
                  input={"text": "x"})
    assert run.status == "failed"
    assert run.error_node_id == "ask"
    assert "Incorrect API key" in run.error


def test_missing_key_fails_clearly(llm_server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    run = run_now(make_workflow(definition=simple_definition(llm_node(llm_server, api_key=""))),
                  input={"text": "x"})
    assert run.status == "failed"
    assert "no API key" in run.error
