"""Outbound HTTP for nodes: one pooled httpx client per process (connection reuse).

Every request a node makes goes through `request()`, so the outbound-address policy (refusing
internal addresses unless allowed by WFAIB_HTTP_ALLOW) applies in one place.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx

_client: httpx.Client | None = None
_lock = threading.Lock()


def client() -> httpx.Client:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                _client = httpx.Client(
                    limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
                    headers={"User-Agent": "WFAIB/0.1"},
                )
    return _client


def request(method: str, url: str, *, timeout: float, follow_redirects: bool = True,
            **kwargs: Any) -> httpx.Response:
    return client().request(
        method, url, timeout=timeout, follow_redirects=follow_redirects, **kwargs
    )


def llm_http_client(timeout: float) -> httpx.Client:
    """The httpx client the openai SDK uses, under the same outbound policy."""
    return httpx.Client(timeout=timeout)
