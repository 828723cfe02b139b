"""`llm`: a chat completion through the openai SDK, against OpenAI or any compatible server.

Output: {content, model, finish_reason, usage: {prompt_tokens, completion_tokens, total_tokens}}.
"""

from typing import Any

from pydantic import Field

from ..base import NodeConfig, NodeType, expression_field
from ..context import NodeContext
from ..registry import register


class LlmConfig(NodeConfig):
    prompt: str = Field(..., min_length=1, json_schema_extra=expression_field(format="textarea"))
    system_prompt: str = Field("", json_schema_extra=expression_field(format="textarea"))
    model: str = "gpt-4o-mini"
    temperature: float = Field(0.7, ge=0, le=2)
    max_tokens: int | None = Field(None, gt=0, le=200_000)
    base_url: str = Field(
        "", description="An OpenAI-compatible server; empty for OpenAI.",
        json_schema_extra={"format": "uri"},
    )
    api_key: str = Field("", description="Empty to use OPENAI_API_KEY.",
                         json_schema_extra={"format": "password"})
    timeout: float = Field(120.0, gt=0, le=900)


@register
class LlmNode(NodeType):
    type = "llm"
    label = "LLM"
    category = "ai"
    description = "Asks a language model (OpenAI or any compatible server) and outputs its answer."
    icon = "sparkles"
    Config = LlmConfig
    secret_fields = ("api_key",)
    timeout = 180.0

    def run(self, ctx: NodeContext, config: LlmConfig, input: Any) -> Any:
        client = ctx.llm_client(base_url=config.base_url or None, api_key=config.api_key or None,
                                timeout=config.timeout)
        messages = []
        if config.system_prompt:
            messages.append({"role": "system", "content": config.system_prompt})
        messages.append({"role": "user", "content": config.prompt})
        kwargs: dict[str, Any] = {"model": config.model, "messages": messages,
                                  "temperature": config.temperature}
        if config.max_tokens:
            kwargs["max_tokens"] = config.max_tokens
        completion = client.chat.completions.create(**kwargs)
        choice = completion.choices[0]
        usage = completion.usage
        return {
            "content": choice.message.content,
            "model": completion.model,
            "finish_reason": choice.finish_reason,
            "usage": {
                "prompt_tokens": getattr(usage, "prompt_tokens", None),
                "completion_tokens": getattr(usage, "completion_tokens", None),
                "total_tokens": getattr(usage, "total_tokens", None),
            },
        }
