"""`memory`: conversation memory kept in the database between runs, keyed by a session id
(a template, e.g. `{{ input.user_id }}`), scoped to the project.

Operations: `load` outputs {session_id, messages} (the last `window` messages, oldest first,
then trimmed to `max_tokens`); `append` stores `messages` (templated {role, content}) and/or
the list `messages_expression` gives, outputs {session_id, appended}; `clear` deletes the
session's messages, outputs {session_id, deleted}.

The agent and llm nodes take the same settings as their `memory` config (`MemorySettings`):
they load the history before asking and append the prompt and the final answer after. The
llm node runs in a worker thread that keeps off the database, so the engine loads its
history before the attempt and stores its turn after a successful one
(`NodeType.memory_field`, runs/engine/memory_buffer.py).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from ..base import NodeConfig, NodeError, NodeType, expression_field
from ..context import NodeContext
from ..registry import register


class MemorySettings(NodeConfig):
    session_id: str = Field(..., min_length=1, max_length=1000,
                            description="Whose conversation, e.g. {{ input.user_id }}.",
                            json_schema_extra=expression_field())
    window: int = Field(20, ge=1, le=1000, description="The last N messages are kept in view.")
    max_tokens: int | None = Field(None, gt=0, le=1_000_000,
                                   description="Then the oldest are dropped until the history "
                                               "fits this many tokens (estimated).")


class MemoryMessage(NodeConfig):
    role: Literal["user", "assistant", "system"]
    content: str = Field(..., json_schema_extra=expression_field(format="textarea"))


class MemoryConfig(MemorySettings):
    operation: Literal["load", "append", "clear"] = "load"
    messages: list[MemoryMessage] = Field(default_factory=list, max_length=200,
                                          description="append: the messages to store.")
    messages_expression: str = Field(
        "", description="append: an expression giving a list of {role, content}.",
        json_schema_extra=expression_field(format="expression"))

    @model_validator(mode="after")
    def _something_to_append(self) -> MemoryConfig:
        if self.operation == "append" and not (self.messages or self.messages_expression):
            raise ValueError("append needs messages or messages_expression")
        return self


def remember(ctx: NodeContext, settings: MemorySettings | None, prompt: str,
             answer: str) -> None:
    """After an llm or agent answer: the prompt and the answer join the session's history."""
    if settings is None:
        return
    messages = ([{"role": "user", "content": prompt}] if prompt else []) + \
        [{"role": "assistant", "content": answer}]
    ctx.memory.append(settings.session_id, messages)


def history(ctx: NodeContext, settings: MemorySettings | None) -> list[dict[str, str]]:
    if settings is None:
        return []
    return ctx.memory.load(settings.session_id, window=settings.window,
                           max_tokens=settings.max_tokens)


@register
class MemoryNode(NodeType):
    type = "memory"
    label = "Conversation memory"
    category = "ai"
    description = "Loads, appends to or clears a conversation kept between runs."
    icon = "history"
    Config = MemoryConfig
    raw_fields = ("messages_expression",)
    timeout = 30.0
    inline_only = True  # reads and writes the database: in the run's own thread

    def run(self, ctx: NodeContext, config: MemoryConfig, input: Any) -> Any:
        session = config.session_id
        if config.operation == "load":
            return {"session_id": session, "messages": history(ctx, config)}
        if config.operation == "clear":
            return {"session_id": session, "deleted": ctx.memory.clear(session)}
        messages: list[Any] = [m.model_dump() for m in config.messages]
        if config.messages_expression:
            extra = ctx.evaluate(config.messages_expression)
            if not isinstance(extra, list):
                raise NodeError("messages_expression must give a list of {role, content}")
            messages += extra
        return {"session_id": session, "appended": ctx.memory.append(session, messages)}
