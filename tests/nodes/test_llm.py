"""The llm node against a real model server on loopback (tests/llm_servers.py) speaking the
OpenAI and Anthropic wire formats, through the real SDKs: chat messages, both providers,
streaming, structured output with its repair attempt, retries, errors without secrets."""

import datetime as dt
import email.utils
import json

import pytest
from django.conf import settings
from django.test import override_settings

from nodes.ai.providers import retry_after
from nodes.base import NodeError
from nodes.registry import registry
from runs.engine.context import EngineContext
from tests.factories import make_workflow, run_now, simple_definition
from workflows.validation import validate_definition

pytestmark = pytest.mark.django_db
KEY = "sk-test"


def llm_node(server, **config):
    return {"id": "ask", "type": "llm", "config": {
        "prompt": "Summarise {{ input.text }}", "base_url": server.url + "/v1",
        "api_key": KEY, "model": "test-model", **config}}


def anthropic_node(server, **config):
    return llm_node(server, provider="anthropic", base_url=server.url, **config)


def run_llm(server, input=None, **config):
    return run_now(make_workflow(definition=simple_definition(llm_node(server, **config))),
                   input=input if input is not None else {"text": "the news"})


def sent(server, index=-1):
    return server.requests[index].json()


@pytest.mark.parametrize("stream", [False, True])
def test_openai_completion(llm_server, stream):
    run = run_llm(llm_server, system_prompt="Be brief", temperature=0.2, max_tokens=50,
                  stream=stream)
    assert run.status == "succeeded", run.error
    assert run.result["content"] == "echo: Summarise the news [system: Be brief]"
    assert run.result["model"] == "test-model"
    assert run.result["provider"] == "openai"
    assert run.result["finish_reason"] == "stop"
    usage = run.result["usage"]
    assert usage["prompt_tokens"] == llm_server.reported[-1]["prompt_tokens"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    body = sent(llm_server)
    assert body["temperature"] == 0.2
    assert body["max_tokens"] == 50
    assert bool(body.get("stream")) is stream


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_completion(llm_server, stream):
    llm_server.reply("Bonjour à tous", prompt_tokens=30, completion_tokens=4, cached_tokens=10)
    run = run_now(make_workflow(definition=simple_definition(anthropic_node(
        llm_server, system_prompt="Be brief", temperature=1.5, stream=stream,
        model="claude-haiku-4-5")), ), input={"text": "x"})
    assert run.status == "succeeded", run.error
    assert run.result["content"] == "Bonjour à tous"
    assert run.result["provider"] == "anthropic"
    assert run.result["finish_reason"] == "stop"
    assert run.result["usage"] == {"prompt_tokens": 30, "completion_tokens": 4,
                                   "total_tokens": 34, "cached_tokens": 10,
                                   "cost": pytest.approx((20 * 1.0 + 10 * 0.1 + 4 * 5.0) / 1e6)}
    request = llm_server.requests[-1]
    assert request.path == "/v1/messages"
    assert request.headers.get("x-api-key") == KEY or \
        request.headers.get("authorization") == f"Bearer {KEY}"
    body = request.json()
    assert body["system"] == "Be brief"
    assert body["messages"] == [{"role": "user", "content": "Summarise x"}]
    assert body["max_tokens"] == 1024  # Anthropic requires one
    assert body["temperature"] == 1.0  # Anthropic's range is 0..1


def test_chat_messages_templated_and_from_an_expression(llm_server):
    history = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]
    run = run_llm(llm_server, input={"name": "Ada", "history": history, "text": "t"},
                  system_prompt="You help {{ input.name }}",
                  messages=[{"role": "user", "content": "My name is {{ input.name }}"},
                            {"role": "assistant", "content": "Noted."}],
                  messages_expression="input.history", prompt="And now?")
    assert run.status == "succeeded", run.error
    assert sent(llm_server)["messages"] == [
        {"role": "system", "content": "You help Ada"},
        {"role": "user", "content": "My name is Ada"},
        {"role": "assistant", "content": "Noted."},
        *history,
        {"role": "user", "content": "And now?"},
    ]


@pytest.mark.parametrize(("history", "reason"), [
    ("not a list", "must give a list of {role, content} messages"),
    ([{"role": "wizard", "content": "x"}], "[0].role"),
    ([{"role": "user"}], "[0].content"),
])
def test_a_bad_messages_expression_fails_the_node_naming_the_problem(llm_server, history,
                                                                     reason):
    run = run_llm(llm_server, input={"history": history}, prompt="",
                  messages_expression="input.history")
    assert run.status == "failed"
    assert run.error_node_id == "ask"
    assert "messages_expression" in run.error
    assert reason in run.error
    assert llm_server.count("/v1/chat/completions") == 0


@pytest.mark.parametrize(("config", "path", "message"), [
    ({"prompt": ""}, "config", "nothing to send"),
    ({"response_format": "json_schema"}, "config", "needs a json_schema"),
    ({"response_format": "json_schema", "json_schema": {"type": "no-such-type"}},
     "config.json_schema", "not a valid JSON Schema"),
    ({"messages": [{"role": "robot", "content": "x"}]}, "config.messages[0].role", ""),
    ({"temperature": 3}, "config.temperature", ""),
    ({"credential": 1.5}, "config.credential", ""),
])
def test_bad_config_is_refused_at_save_time(config, path, message):
    node = {"id": "ask", "type": "llm", "config": {"prompt": "hi", **config}}
    errors = validate_definition(simple_definition(node))
    assert errors, config
    assert any(e["path"].startswith("nodes[1]." + path) and message in e["message"]
               for e in errors), errors


def test_version_1_configs_keep_their_behaviour():
    cls = registry.get("llm")
    assert cls.upgrade_config({"prompt": "hi"}, 1) == {"prompt": "hi", "temperature": 0.7,
                                                      "stream": False}
    assert cls.upgrade_config({"prompt": "hi", "temperature": 0.1}, 1)["temperature"] == 0.1


SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}},
          "required": ["city"], "additionalProperties": False}


@pytest.mark.parametrize("server_kind", ["openai", "anthropic"])
def test_structured_output_is_repaired_once(llm_server, server_kind):
    llm_server.reply('{"town": "Paris"}')  # valid JSON, wrong shape
    llm_server.reply('```json\n{"city": "Paris"}\n```')
    node = (anthropic_node if server_kind == "anthropic" else llm_node)(
        llm_server, response_format="json_schema", json_schema=SCHEMA)
    run = run_now(make_workflow(definition=simple_definition(node)), input={"text": "x"})
    assert run.status == "succeeded", run.error
    assert run.result["data"] == {"city": "Paris"}
    assert len(llm_server.requests) == 2
    first, repair = sent(llm_server, 0), sent(llm_server, 1)
    system = first["system"] if server_kind == "anthropic" else first["messages"][0]["content"]
    assert "JSON Schema" in system
    assert '"required": ["city"]' in system
    if server_kind == "openai":
        assert first["response_format"]["type"] == "json_schema"
        assert first["response_format"]["json_schema"]["schema"] == SCHEMA
    assert repair["messages"][-2] == {"role": "assistant", "content": '{"town": "Paris"}'}
    assert "'city' is a required property" in repair["messages"][-1]["content"]
    # both calls are in the usage: the repair costs tokens too
    assert run.result["usage"]["completion_tokens"] == sum(
        r["completion_tokens"] for r in llm_server.reported)


def test_json_mode_fails_clearly_after_the_repair_attempt(llm_server):
    llm_server.reply("Sure! Here it is: {")
    llm_server.reply("still not json")
    run = run_llm(llm_server, response_format="json")
    assert run.status == "failed"
    assert run.error_node_id == "ask"
    assert "the answer is not valid JSON" in run.error
    assert "after one repair attempt" in run.error
    assert sent(llm_server, 0)["response_format"] == {"type": "json_object"}
    assert len(llm_server.requests) == 2


def test_429_is_retried_after_its_retry_after(llm_server):
    llm_server.fail(429, "Rate limit reached", headers={"Retry-After": "0"})
    llm_server.fail(503, "overloaded")
    run = run_llm(llm_server, retries=2, stream=False)
    assert run.status == "succeeded", run.error
    assert llm_server.count("/v1/chat/completions") == 3


def test_a_retry_after_beyond_the_cap_fails_at_once(llm_server):
    llm_server.fail(429, "Rate limit reached", headers={"Retry-After": "3600"})
    run = run_llm(llm_server, retries=3)
    assert run.status == "failed"
    assert "openai answered 429: Rate limit reached" in run.error
    assert "asks to retry after 3600s" in run.error
    assert llm_server.count("/v1/chat/completions") == 1


def test_a_retry_after_date_is_honoured(llm_server):
    """Retry-After as an HTTP date (RFC 9110): one in the past means now, so the call is
    retried at once; one an hour ahead is beyond the cap and fails at once, naming the wait."""
    llm_server.fail(429, "Rate limit reached",
                    headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    run = run_llm(llm_server, retries=1, stream=False)
    assert run.status == "succeeded", run.error
    assert llm_server.count("/v1/chat/completions") == 2
    ahead = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
                                        usegmt=True)
    llm_server.fail(429, "Rate limit reached", headers={"Retry-After": ahead})
    run = run_llm(llm_server, retries=3)
    assert run.status == "failed"
    assert "asks to retry after 3" in run.error  # ~3600 s, less the moments passed
    assert llm_server.count("/v1/chat/completions") == 3


@pytest.mark.parametrize(("headers", "seconds"), [
    ({"retry-after": "Wed, 21 Oct 2015 07:28:30 GMT"}, 30.0),
    ({"retry-after": "Wednesday, 21-Oct-15 07:28:30 GMT"}, 30.0),  # RFC 850, still read
    ({"retry-after": "Wed, 21 Oct 2015 07:27:00 GMT"}, 0.0),  # past: now
    ({"retry-after": "12"}, 12.0),
    ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
    ({"retry-after": "soon"}, None),
    ({"retry-after": "-4"}, None),
    ({"retry-after": "inf"}, None),
    ({}, None),
])
def test_retry_after_values(headers, seconds):
    now = dt.datetime(2015, 10, 21, 7, 28, tzinfo=dt.UTC).timestamp()
    assert retry_after(headers, now=now) == seconds


@pytest.mark.parametrize(("provider", "message", "code", "limit", "used"), [
    ("openai", "This model's maximum context length is 8192 tokens. However, your messages "
     "resulted in 9100 tokens. Please reduce the length of the messages.",
     "context_length_exceeded", "8,192", "9,100"),
    ("openai", "This model's maximum context length is 4096 tokens. However, you requested "
     "5000 tokens (4000 in the messages, 1000 in the completion).", None, "4,096", "5,000"),
    ("anthropic", "prompt is too long: 210000 tokens > 200000 maximum", None, "200,000",
     "210,000"),
])
def test_a_context_too_long_is_a_clear_failure_naming_the_limit(llm_server, provider, message,
                                                                code, limit, used):
    llm_server.fail(400, message, code=code)
    node = anthropic_node(llm_server) if provider == "anthropic" else llm_node(llm_server)
    run = run_now(make_workflow(definition=simple_definition(node)), input={"text": "x" * 50})
    assert run.status == "failed"
    assert run.error_node_id == "ask"
    assert (f"the prompt is too long for the model's context window (the model's limit is "
            f"{limit} tokens, this request needs {used})") in run.error
    assert "lower max_tokens" in run.error
    assert f"{provider} said: {message}" in run.error
    assert len(llm_server.requests) == 1  # not tried again


def test_another_400_keeps_the_providers_message(llm_server):
    llm_server.fail(400, "Invalid value for 'temperature'")
    run = run_llm(llm_server)
    assert run.status == "failed"
    assert "openai answered 400: Invalid value for 'temperature'" in run.error
    assert "context window" not in run.error


def test_5xx_retries_are_bounded(llm_server):
    for _ in range(3):
        llm_server.fail(500, "boom")
    run = run_now(make_workflow(definition=simple_definition(
        anthropic_node(llm_server, retries=1))), input={"text": "x"})
    assert run.status == "failed"
    assert "anthropic answered 500: boom (after 2 attempts)" in run.error
    assert llm_server.count("/v1/messages") == 2


@pytest.mark.parametrize("server_kind", ["openai", "anthropic"])
def test_a_rejected_key_fails_without_revealing_it(llm_server, server_kind):
    secret = "sk-very-secret-key-123456"  # the server echoes the wrong key in its answer
    node = (anthropic_node if server_kind == "anthropic" else llm_node)(llm_server,
                                                                        api_key=secret)
    run = run_now(make_workflow(definition=simple_definition(node)), input={"text": "x"})
    assert run.status == "failed"
    assert run.error_node_id == "ask"
    assert f"{server_kind} answered 401: Incorrect API key provided" in run.error
    assert "check the credential's API key" in run.error
    everything = json.dumps([run.error, run.result, [(log.output, log.error, log.input)
                                                     for log in run.logs.all()]])
    assert secret not in everything


def test_missing_key_fails_clearly(llm_server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    for node in (llm_node(llm_server, api_key=""), anthropic_node(llm_server, api_key="")):
        run = run_now(make_workflow(definition=simple_definition(node)), input={"text": "x"})
        assert run.status == "failed"
        assert "no API key" in run.error


def test_api_key_from_environment(llm_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    run = run_llm(llm_server, api_key="")
    assert run.status == "succeeded", run.error


def test_timeout_fails_clearly(llm_server):
    import threading

    llm_server.gate = threading.Event()  # the stream stalls after its first piece
    run = run_llm(llm_server, timeout=0.5)
    llm_server.gate.set()
    assert run.status == "failed"
    assert "did not answer within 0.5s" in run.error


# -- credentials (node level: EngineContext with a credential lookup) ----------------------

def node_ctx(credentials, **kwargs):
    return EngineContext(node_id="ask", node_type="llm", names={"input": {}},
                         credentials=credentials, **kwargs)


def run_node(ctx, **config):
    cls = registry.get("llm")
    return cls().run(ctx, cls.Config.model_validate({"prompt": "hi", "model": "m",
                                                      **config}), {})


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_a_credential_picks_the_provider_and_key(llm_server, kind):
    base = llm_server.url + ("/v1" if kind == "openai" else "")
    store = {"ai": {"id": 7, "name": "ai", "kind": kind,
                    "data": {"api_key": KEY, "base_url": base}}}
    out = run_node(node_ctx(lambda ref: store[ref]), credential="ai", api_key="ignored",
                   base_url="http://ignored.example")
    assert out["provider"] == kind
    assert out["content"] == "echo: hi"
    assert llm_server.requests[-1].path == ("/v1/chat/completions" if kind == "openai"
                                            else "/v1/messages")


def test_a_credential_of_another_kind_is_refused(llm_server):
    store = {"mail": {"id": 1, "name": "mail", "kind": "smtp", "data": {"password": "p"}}}
    with pytest.raises(NodeError, match="of kind 'smtp'; this node needs one of: openai, "
                                        "anthropic"):
        run_node(node_ctx(lambda ref: store[ref]), credential="mail")
    assert not llm_server.requests


def test_anthropic_client_goes_through_the_outbound_guard(llm_server):
    store = {"ai": {"id": 7, "name": "ai", "kind": "anthropic",
                    "data": {"api_key": KEY, "base_url": llm_server.url}}}
    with override_settings(WFAIB={**settings.WFAIB, "HTTP_ALLOW": []}), \
            pytest.raises(NodeError, match="refused: 127.0.0.1 is a loopback address"):
        run_node(node_ctx(lambda ref: store[ref]), credential="ai")
    ctx = node_ctx(None)
    with override_settings(WFAIB={**settings.WFAIB, "HTTP_ALLOW": ["127.0.0.1"]}):
        client = ctx.anthropic_client(base_url=llm_server.url, api_key=KEY, timeout=5)
    import anthropic  # the allowlist closed after the client was made: refused on connect

    with override_settings(WFAIB={**settings.WFAIB, "HTTP_ALLOW": []}), \
            pytest.raises(anthropic.APIConnectionError):
        client.messages.create(model="m", max_tokens=5,
                               messages=[{"role": "user", "content": "hi"}])
    assert not llm_server.requests


# -- credentials in a real run -------------------------------------------------------------

@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_a_stored_credential_drives_a_run(llm_server, kind):
    from tests.factories import UserFactory
    from workflows.services import credential_create

    owner = UserFactory()
    secret = "sk-test"
    base = llm_server.url + ("/v1" if kind == "openai" else "")
    credential_create(owner=owner, name="ai", kind=kind,
                      data={"api_key": secret, "base_url": base})
    run = run_now(make_workflow(owner=owner, definition=simple_definition(
        {"id": "ask", "type": "llm", "config": {"prompt": "hi", "credential": "ai",
                                                "model": "m"}})), input={})
    assert run.status == "succeeded", run.error
    assert run.result["provider"] == kind
    assert run.result["content"] == "echo: hi"
    everything = json.dumps([run.result, [(log.input, log.output) for log in run.logs.all()]])
    assert secret not in everything
