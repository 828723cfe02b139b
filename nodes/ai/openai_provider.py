"""OpenAI's chat completions (and any server speaking them: `base_url`) through the openai SDK.

JSON mode sends `response_format: {"type": "json_object"}`; a JSON Schema sends
`{"type": "json_schema", ...}`. A streamed call asks for the usage in its last chunk
(`stream_options.include_usage`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .chat import ChatRequest, ChatResult, Message, ToolCall, Usage
from .providers import BaseProvider, OnText

if TYPE_CHECKING:  # the SDK is imported when a client is made (runs/engine/context.py)
    import openai


def _wire_message(message: Message) -> dict[str, Any]:
    wire: dict[str, Any] = {"role": message["role"], "content": message["content"]}
    if message.get("tool_calls"):
        wire["tool_calls"] = [
            {"id": c["id"], "type": "function",
             "function": {"name": c["name"], "arguments": json.dumps(c["arguments"])}}
            for c in message["tool_calls"]]
    if message["role"] == "tool":
        wire["tool_call_id"] = message.get("tool_call_id", "")
    return wire


def _arguments(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {"_unparsed": text}
    return value if isinstance(value, dict) else {"_value": value}


def _usage(usage: Any) -> Usage:
    if usage is None:
        return Usage()
    details = getattr(usage, "prompt_tokens_details", None)
    return Usage(prompt_tokens=usage.prompt_tokens or 0,
                 completion_tokens=usage.completion_tokens or 0,
                 cached_tokens=getattr(details, "cached_tokens", None) or 0)


class OpenAIProvider(BaseProvider):
    name = "openai"

    def __init__(self, client: openai.OpenAI, **kwargs: Any):
        super().__init__(**kwargs)
        self.client = client

    def _kwargs(self, request: ChatRequest) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": request.model,
                                  "messages": [_wire_message(m) for m in request.messages]}
        if request.temperature is not None:
            kwargs["temperature"] = request.temperature
        if request.max_tokens:
            kwargs["max_tokens"] = request.max_tokens
        if request.response_format == "json":
            kwargs["response_format"] = {"type": "json_object"}
        elif request.response_format == "json_schema":
            kwargs["response_format"] = {"type": "json_schema", "json_schema": {
                "name": "output", "schema": request.json_schema or {}}}
        if request.tools:
            kwargs["tools"] = [{"type": "function", "function": {
                "name": t.name, "description": t.description, "parameters": t.parameters}}
                for t in request.tools]
        return kwargs

    def _call(self, request: ChatRequest, on_text: OnText | None) -> ChatResult:
        kwargs = self._kwargs(request)
        if request.stream:
            return self._stream(kwargs, on_text)
        completion = self.client.chat.completions.create(**kwargs)
        choice = completion.choices[0]
        calls: list[ToolCall] = [
            ToolCall(id=c.id, name=c.function.name, arguments=_arguments(c.function.arguments))
            for c in (choice.message.tool_calls or []) if c.type == "function"]
        return ChatResult(text=choice.message.content or "", model=completion.model,
                          finish_reason=choice.finish_reason, usage=_usage(completion.usage),
                          tool_calls=calls)

    def _stream(self, kwargs: dict[str, Any], on_text: OnText | None) -> ChatResult:
        parts: list[str] = []
        model, finish, usage = kwargs["model"], None, None
        calls: dict[int, dict[str, Any]] = {}
        stream = self.client.chat.completions.create(
            **kwargs, stream=True, stream_options={"include_usage": True})
        with stream:
            for chunk in stream:
                model = chunk.model or model
                usage = chunk.usage or usage
                for choice in chunk.choices:
                    finish = choice.finish_reason or finish
                    delta = choice.delta
                    if delta.content:
                        parts.append(delta.content)
                        if on_text is not None:
                            on_text(delta.content)
                    for call in delta.tool_calls or []:
                        entry = calls.setdefault(call.index, {"id": "", "name": "", "args": ""})
                        entry["id"] = call.id or entry["id"]
                        if call.function is not None:
                            entry["name"] += call.function.name or ""
                            entry["args"] += call.function.arguments or ""
        tool_calls = [ToolCall(id=c["id"], name=c["name"], arguments=_arguments(c["args"]))
                      for _, c in sorted(calls.items())]
        return ChatResult(text="".join(parts), model=model, finish_reason=finish,
                          usage=_usage(usage), tool_calls=tool_calls)
