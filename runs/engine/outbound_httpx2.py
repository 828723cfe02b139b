"""The outbound address guard for SDKs built on httpx2 / httpcore2 (the anthropic SDK since
1.0): the policy of `ssrf.GuardedBackend` (every connection, redirect hops included, checked
against internal addresses and WFAIB_HTTP_ALLOW), on httpcore2's network backend.

    client = llm_http_client2(timeout=60)     # hand to anthropic.Anthropic(http_client=...)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpcore
import httpcore2
import httpx2

from .outbound import max_redirects
from .ssrf import allowed_addresses, connect_first


class OutboundRefused2(httpcore2.ConnectError):
    """An outbound connection refused by the address policy; the message says why."""


class GuardedBackend2(httpcore2.SyncBackend):
    """httpcore2's sync network backend, connecting only to validated addresses."""

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore2.NetworkStream:
        try:
            addresses = allowed_addresses(host, port, refused=OutboundRefused2,
                                          unresolved=httpcore2.ConnectError)
        except httpcore.ConnectError as exc:  # resolve() speaks httpcore's errors
            raise httpcore2.ConnectError(str(exc)) from None
        return connect_first(
            addresses,
            lambda ip: super(GuardedBackend2, self).connect_tcp(
                ip, port, timeout=timeout, local_address=local_address,
                socket_options=socket_options),
            (httpcore2.ConnectError, httpcore2.ConnectTimeout))

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore2.NetworkStream:
        raise OutboundRefused2("refused: unix sockets are not allowed")


def guarded_transport2() -> httpx2.HTTPTransport:
    transport = httpx2.HTTPTransport(trust_env=False)
    # As in outbound.guarded_transport: the pool reads this attribute for every connection.
    transport._pool._network_backend = GuardedBackend2()
    return transport


def llm_http_client2(timeout: float) -> httpx2.Client:
    """The httpx2 client the anthropic SDK uses, under the outbound policy."""
    return httpx2.Client(timeout=timeout, transport=guarded_transport2(), trust_env=False,
                         max_redirects=max_redirects())
