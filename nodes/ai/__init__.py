"""The model layer nodes share: chat requests and results in one provider-neutral shape, the
providers that speak OpenAI's and Anthropic's wire formats through their SDKs, and structured
output (JSON, JSON Schema) with one repair attempt.

    provider = open_provider(ctx, kind="anthropic", api_key=..., base_url=None, timeout=60)
    result = provider.complete(ChatRequest(model="claude-3-5-haiku-latest",
                                           messages=[user("Hello")]), on_text=print)
    result.text, result.usage.prompt_tokens

Nodes reach the network only through `ctx` (`ctx.llm_client`, `ctx.anthropic_client`: SDK
clients whose HTTP goes through the outbound address guard); this package never opens a
connection itself and imports no models or engine modules. The `llm` node uses it; an agent
node reuses `Provider.complete` with `ChatRequest.tools` (see chat.py) for its tool loop.
"""

from .chat import ChatRequest, ChatResult, Message, ToolCall, ToolSpec, Usage
from .clients import KINDS, open_provider
from .providers import Provider

__all__ = ["KINDS", "ChatRequest", "ChatResult", "Message", "Provider", "ToolCall", "ToolSpec",
           "Usage", "open_provider"]
