"""Anthropic's Messages API through the anthropic SDK.

System messages become the `system` parameter; `max_tokens` (required by Anthropic) defaults to
`DEFAULT_MAX_TOKENS`. A JSON Schema is sent as `output_config.format` (Anthropic's structured
outputs); plain JSON mode, which Anthropic lacks, is asked for in the system prompt
(nodes/ai/structured.py). Either answer is checked like any other. Usage: `input_tokens` plus
cache reads and writes make the prompt tokens; cache reads are the cached tokens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .chat import ChatRequest, ChatResult, Message, ToolCall, Usage
from .providers import BaseProvider, OnText

if TYPE_CHECKING:  # the SDK is imported when a client is made (runs/engine/context.py)
    import anthropic

DEFAULT_MAX_TOKENS = 1024
STOP_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length",
                "tool_use": "tool_calls"}


def _wire_message(message: Message) -> dict[str, Any]:
    if message["role"] == "tool":
        result: dict[str, Any] = {"type": "tool_result",
                                  "tool_use_id": message.get("tool_call_id", ""),
                                  "content": message["content"]}
        if message.get("is_error"):  # the model is told the tool failed, not what it gave
            result["is_error"] = True
        return {"role": "user", "content": [result]}
    if message.get("tool_calls"):
        blocks: list[dict[str, Any]] = (
            [{"type": "text", "text": message["content"]}] if message["content"] else [])
        blocks += [{"type": "tool_use", "id": c["id"], "name": c["name"],
                    "input": c["arguments"]} for c in message["tool_calls"]]
        return {"role": "assistant", "content": blocks}
    return {"role": message["role"], "content": message["content"]}


def _usage(usage: Any) -> Usage:
    read = getattr(usage, "cache_read_input_tokens", None) or 0
    written = getattr(usage, "cache_creation_input_tokens", None) or 0
    return Usage(prompt_tokens=(usage.input_tokens or 0) + read + written,
                 completion_tokens=usage.output_tokens or 0, cached_tokens=read)


def _result(message: Any) -> ChatResult:
    text = "".join(b.text for b in message.content if b.type == "text")
    calls = [ToolCall(id=b.id, name=b.name, arguments=dict(b.input or {}))
             for b in message.content if b.type == "tool_use"]
    return ChatResult(text=text, model=message.model,
                      finish_reason=STOP_REASONS.get(message.stop_reason, message.stop_reason),
                      usage=_usage(message.usage), tool_calls=calls)


class AnthropicProvider(BaseProvider):
    name = "anthropic"

    def __init__(self, client: anthropic.Anthropic, **kwargs: Any):
        super().__init__(**kwargs)
        self.client = client

    def _kwargs(self, request: ChatRequest) -> dict[str, Any]:
        system = "\n\n".join(m["content"] for m in request.messages if m["role"] == "system")
        kwargs: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
            "messages": [_wire_message(m) for m in request.messages if m["role"] != "system"],
        }
        if system:
            kwargs["system"] = system
        if request.temperature is not None:  # Anthropic's range is 0..1; models that take
            # no sampling parameters answer 400 (the SDK no longer lists it: sent as is)
            kwargs["extra_body"] = {"temperature": min(request.temperature, 1.0)}
        if request.response_format == "json_schema" and request.json_schema is not None:
            kwargs["output_config"] = {"format": {"type": "json_schema",
                                                  "schema": request.json_schema}}
        if request.tools:
            kwargs["tools"] = [{"name": t.name, "description": t.description,
                                "input_schema": t.parameters} for t in request.tools]
        return kwargs

    def _call(self, request: ChatRequest, on_text: OnText | None) -> ChatResult:
        kwargs = self._kwargs(request)
        if not request.stream:
            return _result(self.client.messages.create(**kwargs))
        with self.client.messages.stream(**kwargs) as stream:
            for text in stream.text_stream:
                if on_text is not None:
                    on_text(text)
            return _result(stream.get_final_message())
