"""Opening a provider for a credential kind, its SDK client made by the node's context.

    provider = open_provider(ctx, kind="openai", api_key=key, base_url=None, timeout=60)
"""

from __future__ import annotations

from ..base import NodeError
from ..context import NodeContext
from .anthropic_provider import AnthropicProvider
from .openai_provider import OpenAIProvider
from .providers import BaseProvider

KINDS = ("openai", "anthropic")


def open_provider(ctx: NodeContext, *, kind: str, api_key: str | None, base_url: str | None,
                  timeout: float, retries: int = 2,
                  organization: str | None = None) -> BaseProvider:
    """The provider for a credential kind ("openai": OpenAI or any compatible server at
    `base_url`; "anthropic"), its SDK client made by `ctx` (outbound guard, no SDK retries)."""
    if kind == "anthropic":
        client = ctx.anthropic_client(base_url=base_url, api_key=api_key, timeout=timeout)
        return AnthropicProvider(client, api_key=client.api_key or "", timeout=timeout,
                                 retries=retries)
    if kind == "openai":
        oa = ctx.llm_client(base_url=base_url, api_key=api_key, timeout=timeout,
                            organization=organization)
        return OpenAIProvider(oa, api_key=oa.api_key, timeout=timeout, retries=retries)
    raise NodeError(f"unknown model provider {kind!r}; one of: {', '.join(KINDS)}")
