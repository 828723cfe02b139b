"""Outbound HTTP for nodes: one pooled httpx client per process, under the address policy.

Every request a node makes goes through `request()` (the `http` node and any URL-taking node,
via `ctx.http_request`), and the openai SDK gets `llm_http_client()`. Both use a transport
whose network backend is `ssrf.GuardedBackend`, so internal addresses are refused on every
connection, redirect hops included (at most WFAIB_HTTP_MAX_REDIRECTS of them), unless
WFAIB_HTTP_ALLOW opens them. Proxy variables from
the environment are ignored (`trust_env=False`): a proxy would connect on our behalf and
bypass the check.
"""

from __future__ import annotations

import threading
from typing import Any

import httpcore
import httpx
from django.core.signals import setting_changed

from wfaib.conf import wfaib_settings

from .observe import observer
from .ssrf import GuardedBackend, OutboundRefused, check_scheme, check_url

__all__ = ["OutboundRefused", "check_url", "client", "guarded_transport", "llm_http_client",
           "max_redirects", "refusal_for", "request"]

_client: httpx.Client | None = None
_lock = threading.Lock()


def guarded_transport(**kwargs: Any) -> httpx.HTTPTransport:
    """An httpx transport that connects only to addresses the policy allows."""
    transport = httpx.HTTPTransport(**kwargs)
    # httpx has no public option for httpcore's network backend; the pool reads this
    # attribute for every new connection (tests/security/test_ssrf.py proves it is honoured).
    transport._pool._network_backend = GuardedBackend()
    return transport


def client() -> httpx.Client:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
                _client = httpx.Client(
                    transport=guarded_transport(limits=limits),
                    headers={"User-Agent": "WFAIB/0.1"},
                    trust_env=False,
                )
    return _client


def _drop_client(*, setting: str, **kwargs: Any) -> None:
    """Pooled keep-alive connections were checked under the old policy: start afresh when
    the WFAIB settings change (tests; production settings do not change at run time)."""
    global _client
    if setting == "WFAIB" and _client is not None:
        with _lock:
            old, _client = _client, None
        if old is not None:
            old.close()


setting_changed.connect(_drop_client, dispatch_uid="wfaib-outbound-client")


def max_redirects() -> int:
    return int(wfaib_settings.HTTP_MAX_REDIRECTS)


def request(method: str, url: str, *, timeout: float, follow_redirects: bool = True,
            **kwargs: Any) -> httpx.Response:
    """Send a request under the address policy. Redirects are followed here, one hop at a
    time, at most WFAIB_HTTP_MAX_REDIRECTS (5) of them, so an error names the hop that was
    refused (or the one past the limit), not the first URL."""
    try:
        check_scheme(url)
        http = client()
        hop = http.build_request(method, url, timeout=timeout, **kwargs)
        observer.outbound_headers(hop.headers)  # the trace context (W3C traceparent)
    except OutboundRefused as exc:
        raise httpx.UnsupportedProtocol(str(exc)) from None
    except httpx.InvalidURL as exc:  # e.g. 0177.0.0.1, which httpx will not parse
        raise httpx.UnsupportedProtocol(f"refused: not a valid URL ({exc})") from None
    limit = max_redirects()
    for redirects in range(limit + 2):
        where = f"redirect {redirects} to {hop.url}: " if redirects else ""
        try:
            if redirects:
                check_scheme(str(hop.url))
            response = http.send(hop, follow_redirects=False)
        except OutboundRefused as exc:
            raise httpx.UnsupportedProtocol(f"{where}{exc}") from None
        except httpx.TransportError as exc:
            if not redirects:
                raise
            raise type(exc)(f"{where}{exc}", request=hop) from None
        following = response.next_request if follow_redirects else None
        if following is None:
            return response
        response.close()
        if redirects >= limit:
            raise httpx.TooManyRedirects(
                f"more than {limit} redirects (WFAIB_HTTP_MAX_REDIRECTS); refused redirect "
                f"{redirects + 1} to {following.url}", request=following)
        hop = following
    raise AssertionError("unreachable")  # the loop returns or raises


def refusal_for(url: str) -> str | None:
    """The refusal message for `url` ("refused: ... is a private address; ..."), or None.

    A pre-flight for callers whose library hides transport errors (the openai SDK turns them
    into "Connection error."); a host that does not resolve is left to the request itself."""
    try:
        check_url(url)
    except OutboundRefused as exc:
        return str(exc)
    except httpcore.ConnectError:
        return None
    return None


def llm_http_client(timeout: float) -> httpx.Client:
    """The httpx client the openai SDK uses, under the same outbound policy."""
    return httpx.Client(timeout=timeout, transport=guarded_transport(), trust_env=False,
                        max_redirects=max_redirects())
