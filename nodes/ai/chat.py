"""Provider-neutral chat types: what a node asks a model and what it gets back.

A `Message` is a dict {"role": "system" | "user" | "assistant" | "tool", "content": str}, an
assistant message may carry "tool_calls" (a list of `ToolCall`) and a tool message names the
"tool_call_id" it answers: the shape an agent's tool loop needs, translated by each provider to
its own wire format. `ChatRequest.tools` declares the functions a model may call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, TypedDict

ROLES = ("system", "user", "assistant", "tool")


class ToolCall(TypedDict):
    id: str
    name: str
    arguments: dict[str, Any]


class Message(TypedDict):
    role: Literal["system", "user", "assistant", "tool"]
    content: str
    tool_calls: NotRequired[list[ToolCall]]
    tool_call_id: NotRequired[str]
    is_error: NotRequired[bool]  # a tool result that is the tool's error (Anthropic: is_error)


@dataclass(frozen=True)
class ToolSpec:
    """A function the model may call: its name, what it does, its arguments' JSON Schema."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class ChatRequest:
    """One model call. `response_format`: "text", "json" (any JSON object) or "json_schema"
    (`json_schema` must be given). `max_tokens` None: the provider's default (Anthropic, which
    requires one: `DEFAULT_ANTHROPIC_MAX_TOKENS`)."""

    model: str
    messages: list[Message]
    temperature: float | None = None
    max_tokens: int | None = None
    response_format: Literal["text", "json", "json_schema"] = "text"
    json_schema: dict[str, Any] | None = None
    stream: bool = False
    tools: tuple[ToolSpec, ...] = ()


@dataclass(frozen=True)
class Usage:
    """Tokens of one call. `prompt_tokens` includes `cached_tokens` (read from the provider's
    prompt cache, billed at a lower price)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class ChatResult:
    """The model's answer: its text, why it stopped ("stop", "length", "tool_calls", ...),
    the tool calls it asked for, and the usage the provider reported."""

    text: str
    model: str
    finish_reason: str | None
    usage: Usage
    tool_calls: list[ToolCall] = field(default_factory=list)


def estimate_tokens(messages: list[Message]) -> int:
    """A rough upper estimate of a prompt's tokens (about 4 characters a token, rounded up,
    plus a few per message), for budget checks before a call; never used for billing."""
    chars = sum(len(m.get("content") or "") for m in messages)
    return chars // 3 + 4 * len(messages) + 1
