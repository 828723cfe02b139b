"""`embeddings`: turns texts into vectors with an OpenAI-compatible embeddings API (the openai
SDK through `ctx.llm_client`: OpenAI, or any server at `base_url`).

`input` is a text, a list of texts, or a list of objects (chunks from the text splitter) whose
`text_field` is embedded. Output: {items: [{text, vector, ...the object's other fields}],
model, dimensions, usage}; feed `items` to a vector_store insert. Each request (at most
`batch_size` texts) is checked against the budgets and recorded in the cost ledger.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..ai.providers import describe_error
from ..base import NodeConfig, NodeError, NodeType, credential_field, expression_field
from ..context import ModelUsage, NodeContext
from ..registry import register

MAX_TEXTS = 10_000


class EmbeddingsConfig(NodeConfig):
    credential: int | str | None = Field(
        None, description="A stored credential of kind openai (or a compatible server).",
        json_schema_extra=credential_field("openai"))
    model: str = Field("text-embedding-3-small", min_length=1, max_length=200)
    input: Any = Field("{{ input }}", description="A text, a list of texts, or a list of "
                                                  "objects holding `text_field`.",
                       json_schema_extra=expression_field(format="json"))
    text_field: str = Field("text", min_length=1, max_length=100)
    dimensions: int | None = Field(None, gt=0, le=16_000,
                                   description="Shorter vectors, for models that allow it.")
    batch_size: int = Field(100, ge=1, le=2048, description="Texts per request.")
    timeout: float = Field(60.0, gt=0, le=600)
    base_url: str = Field("", json_schema_extra={"format": "uri"})
    api_key: str = Field("", json_schema_extra={"format": "password"})


def _items(config: EmbeddingsConfig) -> list[dict[str, Any]]:
    value = config.input
    values = value if isinstance(value, list) else [value]
    if not values:
        raise NodeError("input is empty: nothing to embed")
    if len(values) > MAX_TEXTS:
        raise NodeError(f"input has {len(values)} texts; at most {MAX_TEXTS} a run")
    items = []
    for i, v in enumerate(values):
        item = dict(v) if isinstance(v, dict) else {config.text_field: v}
        text = item.get(config.text_field)
        if not isinstance(text, str) or not text.strip():
            raise NodeError(f"input[{i}]: {config.text_field!r} must be a non-empty text")
        items.append(item)
    return items


@register
class EmbeddingsNode(NodeType):
    type = "embeddings"
    label = "Embeddings"
    category = "ai"
    description = "Turns texts into vectors (OpenAI or a compatible embeddings API)."
    icon = "vector"
    Config = EmbeddingsConfig
    secret_fields = ("api_key",)
    timeout = 300.0
    uses_models = True

    def run(self, ctx: NodeContext, config: EmbeddingsConfig, input: Any) -> Any:
        api_key, base_url = config.api_key, config.base_url
        if config.credential is not None and config.credential != "":
            data = ctx.credential(config.credential, kinds=("openai",))["data"]
            api_key, base_url = str(data.get("api_key") or ""), str(data.get("base_url") or "")
        client = ctx.llm_client(base_url=base_url or None, api_key=api_key or None,
                                timeout=config.timeout)
        items = _items(config)
        tokens, model = 0, config.model
        for start in range(0, len(items), config.batch_size):
            batch = items[start:start + config.batch_size]
            texts = [item[config.text_field] for item in batch]
            ctx.check_budget(model=config.model, completion_tokens=0,
                             prompt_tokens=sum(len(t) // 3 + 1 for t in texts))
            kwargs: dict[str, Any] = {"model": config.model, "input": texts}
            if config.dimensions:
                kwargs["dimensions"] = config.dimensions
            try:
                answer = client.embeddings.create(**kwargs)
            except Exception as exc:
                failed = describe_error(exc, provider="the embeddings API",
                                        timeout=config.timeout)
                if failed is None:
                    raise
                message = failed.message.replace(client.api_key, "***") if client.api_key \
                    else failed.message
                raise NodeError(message) from None
            if len(answer.data) != len(batch):
                raise NodeError(f"the embeddings API answered {len(answer.data)} vectors for "
                                f"{len(batch)} texts")
            for item, row in zip(batch, sorted(answer.data, key=lambda d: d.index),
                                 strict=True):
                item["vector"] = list(row.embedding)
            used = answer.usage.prompt_tokens if answer.usage else 0
            tokens += used
            model = answer.model or model
            ctx.record_usage(ModelUsage(provider="openai", model=model, prompt_tokens=used,
                                        completion_tokens=0, cached_tokens=0, cost=None))
        return {"items": items, "model": model, "dimensions": len(items[0]["vector"]),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
