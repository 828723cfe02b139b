"""`agent`: a language model that calls tools in a loop until it answers.

Each iteration sends the conversation (system prompt, optional memory, the prompt, then every
tool call and result so far) with the tools' declarations; when the model asks for tools, each
call runs (nodes/ai/tools.py: other workflows of the project, or http/code nodes
configured as tools) and its output (JSON) goes back as a tool message; when it answers
without tool calls, that answer is the node's output. OpenAI and Anthropic function calling go
through the provider layer (nodes/ai). The node runs in the engine's thread (`inline_only`:
workflow tools are child runs).

Limits: `max_iterations` model turns, `max_tool_calls` tool calls, `max_seconds` of wall time
(checked before each model turn and tool call); reaching one fails the node, its steps so far
in the error's output. A tool that fails, an unknown tool name or arguments that do not match
the tool's schema are reported back to the model as the tool's result (`on_tool_error:
"report"`) or fail the node (`"fail"`).

Output: {content, steps, iterations, tool_calls, model, provider, finish_reason, usage}.
`steps` lists every model turn ({type: "model", iteration, text, tool_calls, finish_reason,
usage}) and tool call ({type: "tool", iteration, id, name, input, output | error}); the run
viewer shows them as a timeline. Every model call is checked against the budgets and recorded
in the cost ledger like the llm node's.
"""

from __future__ import annotations

import json
import time
from typing import Any, Literal

from pydantic import Field, field_validator

from ..ai import ChatRequest, Message, ToolCall, open_provider
from ..ai.providers import BaseProvider
from ..ai.tools import AgentTool, Toolbox, ToolFailure
from ..base import NodeConfig, NodeError, NodeType, credential_field, expression_field
from ..context import ModelUsage, NodeContext
from ..registry import register
from .llm import _ask, _total
from .memory import MemorySettings, history, remember

MAX_TOOL_RESULT_CHARS = 20_000


class AgentConfig(NodeConfig):
    credential: int | str | None = Field(
        None, description="A stored credential of kind openai or anthropic.",
        json_schema_extra=credential_field("openai", "anthropic"))
    provider: Literal["openai", "anthropic"] = Field(
        "openai", description="Without a credential: which API api_key/base_url are for.")
    model: str = Field("gpt-4o-mini", min_length=1, max_length=200)
    system_prompt: str = Field(
        "You are a helpful assistant. Use the tools when they help; answer when done.",
        json_schema_extra=expression_field(format="textarea"))
    prompt: str = Field(..., min_length=1, description="The task (the user's message).",
                        json_schema_extra=expression_field(format="textarea"))
    tools: list[AgentTool] = Field(default_factory=list, max_length=64,
                                   description="Workflows and nodes the model may call.")
    max_iterations: int = Field(8, ge=1, le=100, description="Most model turns.")
    max_tool_calls: int = Field(20, ge=0, le=500, description="Most tool calls in all.")
    max_seconds: float = Field(300.0, gt=0, le=3600,
                               description="Wall time for the whole loop.")
    on_tool_error: Literal["report", "fail"] = Field(
        "report", description="report: the error goes back to the model as the tool's "
                              "result; fail: the node fails.")
    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: int | None = Field(None, gt=0, le=200_000)
    retries: int = Field(2, ge=0, le=10)
    timeout: float = Field(120.0, gt=0, le=900, description="Seconds per model call.")
    base_url: str = Field("", json_schema_extra={"format": "uri"})
    api_key: str = Field("", json_schema_extra={"format": "password"})
    memory: MemorySettings | None = Field(
        None, description="Conversation memory: the session's history comes before the "
                          "prompt; the prompt and the final answer are appended after.")

    @field_validator("tools")
    @classmethod
    def _unique(cls, value: list[AgentTool]) -> list[AgentTool]:
        names = [t.name for t in value]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"tool names must be unique: {', '.join(twice)}")
        return value


def _open(ctx: NodeContext, config: AgentConfig) -> BaseProvider:
    kind: str = config.provider
    api_key, base_url, organization = config.api_key, config.base_url, ""
    if config.credential is not None and config.credential != "":
        found = ctx.credential(config.credential, kinds=("openai", "anthropic"))
        data = found["data"]
        kind, api_key = found["kind"], str(data.get("api_key") or "")
        base_url = str(data.get("base_url") or "")
        organization = str(data.get("organization") or "")
    return open_provider(ctx, kind=kind, api_key=api_key or None, base_url=base_url or None,
                         timeout=config.timeout, retries=config.retries,
                         organization=organization or None)


def _as_text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str,
                                                           ensure_ascii=False)
    if len(text) > MAX_TOOL_RESULT_CHARS:
        text = text[:MAX_TOOL_RESULT_CHARS] + f"... [cut at {MAX_TOOL_RESULT_CHARS} characters]"
    return text


def _usage(spent: ModelUsage) -> dict[str, Any]:
    return {"prompt_tokens": spent["prompt_tokens"],
            "completion_tokens": spent["completion_tokens"],
            "cached_tokens": spent["cached_tokens"], "cost": spent["cost"]}


class AgentLoop:
    """One agent run: the conversation, the steps, the limits."""

    def __init__(self, ctx: NodeContext, config: AgentConfig, history: list[Message]):
        self.ctx, self.config = ctx, config
        self.provider = _open(ctx, config)
        self.toolbox = Toolbox(ctx, config.tools)
        self.messages: list[Message] = []
        if config.system_prompt:
            self.messages.append(Message(role="system", content=config.system_prompt))
        self.messages += history
        self.messages.append(Message(role="user", content=config.prompt))
        self.steps: list[dict[str, Any]] = []
        self.spent: list[ModelUsage] = []
        self.calls = 0
        self.deadline = time.monotonic() + config.max_seconds

    def fail(self, reason: str) -> NodeError:
        return NodeError(reason, output={"steps": self.steps, "usage": _total(self.spent)})

    def _check_time(self, before: str) -> None:
        if time.monotonic() > self.deadline:
            raise self.fail(f"the agent ran out of time ({self.config.max_seconds:g}s) "
                            f"before {before}")

    def answer(self) -> dict[str, Any]:
        config = self.config
        for iteration in range(1, config.max_iterations + 1):
            self._check_time(f"model turn {iteration}")
            request = ChatRequest(model=config.model, messages=list(self.messages),
                                  temperature=config.temperature, max_tokens=config.max_tokens,
                                  tools=self.toolbox.specs())
            try:  # a budget, the provider's errors: failed with the steps so far
                result = _ask(self.ctx, self.provider, request, self.spent)
            except NodeError as exc:
                raise self.fail(exc.message) from None
            self.steps.append({"type": "model", "iteration": iteration, "text": result.text,
                               "tool_calls": result.tool_calls,
                               "finish_reason": result.finish_reason,
                               "usage": _usage(self.spent[-1])})
            if not result.tool_calls:
                return {"content": result.text, "steps": self.steps, "iterations": iteration,
                        "tool_calls": self.calls, "model": result.model,
                        "provider": self.provider.name, "finish_reason": result.finish_reason,
                        "usage": _total(self.spent)}
            self.messages.append(Message(role="assistant", content=result.text,
                                         tool_calls=result.tool_calls))
            for call in result.tool_calls:
                self.messages.append(self._tool(iteration, call))
        raise self.fail(f"the agent reached its limit of {config.max_iterations} model turns "
                        f"without a final answer")

    def _tool(self, iteration: int, call: ToolCall) -> Message:
        self.calls += 1
        if self.calls > self.config.max_tool_calls:
            raise self.fail(f"the agent reached its limit of {self.config.max_tool_calls} "
                            f"tool calls (the model asked for {call['name']!r})")
        self._check_time(f"tool call {call['name']!r}")
        step: dict[str, Any] = {"type": "tool", "iteration": iteration, "id": call["id"],
                                "name": call["name"], "input": call["arguments"]}
        self.steps.append(step)
        started = time.monotonic()
        try:
            output = self.toolbox.call(call["name"], call["arguments"])
        except ToolFailure as exc:
            step["error"] = str(exc)
            step["duration_ms"] = round((time.monotonic() - started) * 1000)
            if self.config.on_tool_error == "fail":
                raise self.fail(f"tool {call['name']!r} failed: {exc}") from None
            return Message(role="tool", tool_call_id=call["id"], content=f"Error: {exc}",
                           is_error=True)
        step["output"] = output
        step["duration_ms"] = round((time.monotonic() - started) * 1000)
        return Message(role="tool", tool_call_id=call["id"], content=_as_text(output))


@register
class AgentNode(NodeType):
    type = "agent"
    label = "AI agent"
    category = "ai"
    description = ("A language model that calls tools (other workflows, HTTP, code) in a "
                   "loop until it answers.")
    icon = "bot"
    Config = AgentConfig
    secret_fields = ("api_key",)
    raw_fields = ("tools",)  # rendered per tool call, with the model's arguments as `args`
    timeout = 600.0
    inline_only = True  # workflow tools are child runs in the engine's thread
    uses_models = True

    def run(self, ctx: NodeContext, config: AgentConfig, input: Any) -> Any:
        past = [Message(role=m["role"], content=m["content"])  # type: ignore[typeddict-item]
                for m in history(ctx, config.memory)]
        output = AgentLoop(ctx, config, past).answer()
        remember(ctx, config.memory, config.prompt, output["content"])
        return output
