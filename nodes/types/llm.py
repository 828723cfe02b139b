"""`llm`: asks a language model (OpenAI, Anthropic, or any OpenAI-compatible server) and
outputs its answer, optionally as validated JSON, streaming the text to the run viewer.

The messages sent, in order: `system_prompt`, the conversation `memory` (the session's last
`window` messages), the fixed `messages` (their contents are templates), the list
`messages_expression` evaluates to, then `prompt` as the last user message. With `memory`,
the prompt and the answer join the session after a successful call: the engine reads and
writes the database in the run's thread (`memory_field`), the node only sees `ctx.memory`.
The provider comes from the `credential` (kind `openai` or
`anthropic`); without one, from `provider` with the node's `api_key`/`base_url` or the
OPENAI_API_KEY / ANTHROPIC_API_KEY environment variable.

Each call is checked against the workflow's and project's monthly budgets before it is made
(`ctx.check_budget`) and its usage recorded in the cost ledger (`ctx.record_usage`).

Output: {content, data (the parsed JSON, structured output only), model, provider,
finish_reason, usage: {prompt_tokens, completion_tokens, total_tokens, cached_tokens, cost}}.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

from pydantic import Field, TypeAdapter, ValidationError, field_validator, model_validator

from ..ai import ChatRequest, ChatResult, Message, open_provider
from ..ai.chat import estimate_tokens
from ..ai.providers import BaseProvider
from ..ai.structured import check, instruction, repair_message, schema_problem
from ..base import NodeConfig, NodeError, NodeType, credential_field, expression_field
from ..context import ModelUsage, NodeContext
from ..registry import register
from .memory import MemorySettings, history, remember


class ChatMessage(NodeConfig):
    role: Literal["system", "user", "assistant"]
    content: str = Field(..., json_schema_extra=expression_field(format="textarea"))


_MESSAGES = TypeAdapter(list[ChatMessage])


class LlmConfig(NodeConfig):
    credential: int | str | None = Field(
        None, description="A stored credential of kind openai (OpenAI or a compatible server "
                          "at its base_url) or anthropic.",
        json_schema_extra=credential_field("openai", "anthropic"))
    provider: Literal["openai", "anthropic"] = Field(
        "openai", description="Without a credential: which API the node's api_key/base_url "
                              "(or the environment's key) is for.")
    model: str = Field("gpt-4o-mini", min_length=1, max_length=200)
    system_prompt: str = Field("", json_schema_extra=expression_field(format="textarea"))
    messages: list[ChatMessage] = Field(
        default_factory=list, max_length=200,
        description="Fixed messages (system, user, assistant); their contents are templates.")
    messages_expression: str = Field(
        "", description="An expression giving a list of {role, content} messages, e.g. "
                        "input.history; sent after `messages`.",
        json_schema_extra=expression_field(format="expression"))
    prompt: str = Field("", description="The last user message.",
                        json_schema_extra=expression_field(format="textarea"))
    memory: MemorySettings | None = Field(
        None, description="Conversation memory: the session's last `window` messages come "
                          "before the prompt; the prompt and the answer are added after.")
    temperature: float | None = Field(None, ge=0, le=2,
                                      description="Empty: the provider's default.")
    max_tokens: int | None = Field(
        None, gt=0, le=200_000,
        description="Most tokens in the answer (Anthropic requires one: 1024 when empty).")
    response_format: Literal["text", "json", "json_schema"] = Field(
        "text", description="json: any JSON; json_schema: JSON valid against json_schema. "
                            "An invalid answer is sent back to the model once to repair.")
    json_schema: dict[str, Any] | None = Field(None, description="For json_schema output.")
    stream: bool = Field(True, description="Stream the answer (watch it in the run viewer).")
    retries: int = Field(2, ge=0, le=10,
                         description="Tries again after a 429, 5xx or dropped connection.")
    timeout: float = Field(120.0, gt=0, le=900, description="Seconds per model call.")
    base_url: str = Field(
        "", description="Without a credential: an OpenAI-compatible server; empty for the "
                        "provider's own.", json_schema_extra={"format": "uri"})
    api_key: str = Field("", description="Without a credential: the key (prefer a "
                                         "credential); empty to use the environment's.",
                         json_schema_extra={"format": "password"})

    @field_validator("json_schema")
    @classmethod
    def _schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        problem = schema_problem(value) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _something_to_send(self) -> LlmConfig:
        if not (self.prompt or self.messages or self.messages_expression):
            raise ValueError("nothing to send: set prompt, messages or messages_expression")
        if self.response_format == "json_schema" and self.json_schema is None:
            raise ValueError("response_format json_schema needs a json_schema")
        return self


def _messages(ctx: NodeContext, config: LlmConfig) -> list[Message]:
    messages: list[Message] = []
    system = config.system_prompt
    if config.response_format != "text":
        system = "\n\n".join(filter(None, [system, instruction(config.json_schema)]))
    if system:
        messages.append(Message(role="system", content=system))
    listed = list(config.messages)
    if config.messages_expression:
        value = ctx.evaluate(config.messages_expression)
        try:
            listed += _MESSAGES.validate_python(value)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
            raise NodeError(f"messages_expression must give a list of {{role, content}} "
                            f"messages: at {where or 'the top'}: {first['msg']}") from None
    messages += [Message(role=m["role"], content=m["content"])  # type: ignore[typeddict-item]
                 for m in history(ctx, config.memory)]
    messages += [Message(role=m.role, content=m.content) for m in listed]
    if config.prompt:
        messages.append(Message(role="user", content=config.prompt))
    if not any(m["role"] != "system" for m in messages):
        raise NodeError("no user or assistant message to send (the prompt, messages and "
                        "messages_expression gave only system messages or nothing)")
    return messages


def _open(ctx: NodeContext, config: LlmConfig) -> BaseProvider:
    kind: str = config.provider
    api_key, base_url, organization = config.api_key, config.base_url, ""
    if config.credential is not None and config.credential != "":
        found = ctx.credential(config.credential, kinds=("openai", "anthropic"))
        data = found["data"]
        kind, api_key = found["kind"], str(data.get("api_key") or "")
        base_url, organization = str(data.get("base_url") or ""), str(data.get("organization")
                                                                      or "")
    return open_provider(ctx, kind=kind, api_key=api_key or None, base_url=base_url or None,
                         timeout=config.timeout, retries=config.retries,
                         organization=organization or None)


def _ask(ctx: NodeContext, provider: BaseProvider, request: ChatRequest,
         spent: list[ModelUsage]) -> ChatResult:
    """One call: the budget check before, the ledger after, the text streamed meanwhile."""
    ctx.check_budget(model=request.model, prompt_tokens=estimate_tokens(request.messages),
                     completion_tokens=request.max_tokens or 0)
    streamed: list[str] = []

    def on_text(delta: str) -> None:
        streamed.append(delta)
        ctx.publish_partial("".join(streamed))

    result = provider.complete(request, on_text=on_text if request.stream else None)
    spent.append(ctx.record_usage(ModelUsage(
        provider=provider.name, model=result.model or request.model,
        prompt_tokens=result.usage.prompt_tokens,
        completion_tokens=result.usage.completion_tokens,
        cached_tokens=result.usage.cached_tokens, cost=None)))
    return result


def _total(spent: list[ModelUsage]) -> dict[str, Any]:
    costs = [u["cost"] for u in spent]
    prompt = sum(u["prompt_tokens"] for u in spent)
    completion = sum(u["completion_tokens"] for u in spent)
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "cached_tokens": sum(u["cached_tokens"] for u in spent),
            "cost": None if any(c is None for c in costs) else round(sum(costs), 8)}  # type: ignore[arg-type]


@register
class LlmNode(NodeType):
    type = "llm"
    label = "LLM"
    category = "ai"
    description = ("Asks a language model (OpenAI, Anthropic or a compatible server) and "
                   "outputs its answer, as text or validated JSON.")
    icon = "sparkles"
    Config = LlmConfig
    output_schema = {"type": "object", "properties": {
        "content": {"type": "string"}, "model": {"type": "string"},
        "provider": {"type": "string"}, "finish_reason": {"type": "string"},
        "usage": {"type": "object", "properties": {
            "prompt_tokens": {"type": "integer"}, "completion_tokens": {"type": "integer"},
            "total_tokens": {"type": "integer"}, "cached_tokens": {"type": "integer"},
            "cost": {"type": "number"}}}}}
    secret_fields = ("api_key",)
    raw_fields = ("messages_expression", "json_schema")
    timeout = 180.0
    version = 2
    uses_models = True
    memory_field = "memory"  # the engine loads and stores it in the run's thread

    @classmethod
    def migrate_config(cls, old_version: int, config: dict[str, Any]) -> dict[str, Any]:
        if old_version == 1:  # version 1 sent temperature 0.7 by default and never streamed
            config.setdefault("temperature", 0.7)
            config.setdefault("stream", False)
        return config

    def run(self, ctx: NodeContext, config: LlmConfig, input: Any) -> Any:
        provider = _open(ctx, config)
        request = ChatRequest(model=config.model, messages=_messages(ctx, config),
                              temperature=config.temperature, max_tokens=config.max_tokens,
                              response_format=config.response_format,
                              json_schema=config.json_schema, stream=config.stream)
        spent: list[ModelUsage] = []
        result = _ask(ctx, provider, request, spent)
        output: dict[str, Any] = {}
        if config.response_format != "text":
            value, problem = check(result.text, config.json_schema)
            if problem:  # one repair attempt: the model sees its answer and what is wrong
                repair = [*request.messages, Message(role="assistant", content=result.text),
                          repair_message(problem)]
                result = _ask(ctx, provider, replace(request, messages=repair), spent)
                value, problem = check(result.text, config.json_schema)
            if problem:
                raise NodeError(f"{problem} (after one repair attempt)", output={
                    "content": result.text, "usage": _total(spent)})
            output["data"] = value
        remember(ctx, config.memory, config.prompt, result.text)
        return {"content": result.text, **output, "model": result.model,
                "provider": provider.name, "finish_reason": result.finish_reason,
                "usage": _total(spent)}
