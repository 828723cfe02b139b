"""The provider layer (nodes/ai) an agent node builds on: tool calling through both SDKs,
streamed or not, in one provider-neutral shape; the wire formats checked at the server."""

import pytest

from nodes.ai import ChatRequest, Message, ToolSpec, open_provider
from runs.engine.context import EngineContext

WEATHER = ToolSpec(name="weather", description="The weather in a city.",
                   parameters={"type": "object", "properties": {"city": {"type": "string"}},
                               "required": ["city"]})


def provider_for(server, kind):
    ctx = EngineContext(node_id="agent", node_type="agent", names={})
    base = server.url + ("/v1" if kind == "openai" else "")
    return open_provider(ctx, kind=kind, api_key="sk-test", base_url=base, timeout=10)


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_a_tool_call_round_trip(llm_server, kind, stream):
    llm_server.reply("Let me check.", tool_calls=[
        {"id": "call_1", "name": "weather", "arguments": {"city": "Paris"}}])
    llm_server.reply("Sunny in Paris.")
    provider = provider_for(llm_server, kind)
    ask = [Message(role="system", content="Use tools."),
           Message(role="user", content="Weather in Paris?")]
    first = provider.complete(ChatRequest(model="m", messages=ask, tools=(WEATHER,),
                                          stream=stream))
    assert first.finish_reason == "tool_calls"
    assert first.tool_calls == [{"id": "call_1", "name": "weather",
                                 "arguments": {"city": "Paris"}}]
    assert first.text == "Let me check."
    follow = [*ask, Message(role="assistant", content=first.text, tool_calls=first.tool_calls),
              Message(role="tool", content='{"sky": "sunny"}', tool_call_id="call_1")]
    second = provider.complete(ChatRequest(model="m", messages=follow, tools=(WEATHER,),
                                           stream=stream))
    assert second.text == "Sunny in Paris."
    assert second.usage.prompt_tokens == llm_server.reported[-1]["prompt_tokens"]
    declared, sent = llm_server.requests[0].json()["tools"], llm_server.requests[1].json()
    if kind == "openai":
        assert declared == [{"type": "function", "function": {
            "name": "weather", "description": WEATHER.description,
            "parameters": WEATHER.parameters}}]
        assert sent["messages"][2]["tool_calls"][0]["function"] == {
            "name": "weather", "arguments": '{"city": "Paris"}'}
        assert sent["messages"][3] == {"role": "tool", "content": '{"sky": "sunny"}',
                                       "tool_call_id": "call_1"}
    else:
        assert declared == [{"name": "weather", "description": WEATHER.description,
                             "input_schema": WEATHER.parameters}]
        assert sent["messages"][1]["content"][1] == {
            "type": "tool_use", "id": "call_1", "name": "weather", "input": {"city": "Paris"}}
        assert sent["messages"][2] == {"role": "user", "content": [{
            "type": "tool_result", "tool_use_id": "call_1", "content": '{"sky": "sunny"}'}]}


def test_streamed_text_reaches_the_callback_piece_by_piece(llm_server):
    llm_server.reply("one two three")
    pieces = []
    result = provider_for(llm_server, "anthropic").complete(
        ChatRequest(model="m", messages=[Message(role="user", content="count")], stream=True),
        on_text=pieces.append)
    assert pieces == ["one ", "two ", "three"]
    assert result.text == "one two three"
