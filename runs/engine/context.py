"""What a node sees while it runs: expression evaluation, outbound HTTP, LLM clients, logging.

Nodes act only through this object, so they stay free of models and easy to test.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import httpx

from nodes.base import NodeError

from . import outbound
from .expressions import ExpressionError, evaluate

logger = logging.getLogger("wfaib.nodes")


class NodeContext:
    def __init__(
        self,
        *,
        node_id: str,
        node_type: str,
        names: Mapping[str, Any],
        run_id: int | None = None,
        attempt: int = 1,
        expression_timeout: float = 2.0,
        services: Mapping[str, Any] | None = None,
        scope: str = "",
    ):
        self.node_id = node_id
        self.node_type = node_type
        self.names = names
        self.run_id = run_id
        self.attempt = attempt
        self.expression_timeout = expression_timeout
        # Engine-provided callables for nodes that reach back into the engine (sub-workflows,
        # resume URLs); absent when a node is run on its own.
        self.services = dict(services or {})
        self.scope = scope  # "" at the top level, "loop1[3]" inside a loop iteration

    def service(self, name: str) -> Any:
        """An engine service (respond, run_subworkflow, resume_token, ...) or a clear error."""
        if name not in self.services:
            raise NodeError(f"this node needs the engine's {name!r} service, which is not "
                            f"available here (is it running outside a run?)")
        return self.services[name]

    @property
    def input(self) -> Any:
        return self.names.get("input")

    def evaluate(self, expression: str, extra: Mapping[str, Any] | None = None) -> Any:
        names = {**self.names, **extra} if extra else self.names
        try:
            return evaluate(expression, names, timeout=self.expression_timeout)
        except ExpressionError as exc:
            raise NodeError(str(exc)) from None

    def http_request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return outbound.request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise NodeError(f"{method} {url} timed out after {kwargs.get('timeout')}s") from None
        except httpx.HTTPError as exc:
            raise NodeError(f"{method} {url} failed: {exc}") from None

    def llm_client(self, *, base_url: str | None, api_key: str | None, timeout: float):
        import openai

        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            raise NodeError("no API key: set the node's api_key or OPENAI_API_KEY")
        refused = outbound.refusal_for(base_url) if base_url else None
        if refused:  # checked here for a clear message; the transport checks again
            raise NodeError(f"base_url {base_url}: {refused}")
        return openai.OpenAI(
            api_key=key,
            base_url=base_url,
            timeout=timeout,
            max_retries=0,
            http_client=outbound.llm_http_client(timeout),
        )

    def log(self, message: str, *args: Any) -> None:
        logger.info("[run %s node %s] " + message, self.run_id, self.node_id, *args)
