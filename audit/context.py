"""Who is acting, for `audit_record`: the request being served, held in a context variable.

Services do not take a request, and the actor and client address are known only in views. So
`AuditContextMiddleware` puts the current HttpRequest in a ContextVar for the duration of the
request, and `audit_record` reads the actor (`request.user`, read when the event is written, so
a user authenticated later by DRF's token authentication is seen), the client address and the
door (`admin` or `api`) from it. Callers outside a request (the CLI, tests) may wrap their work
in `audit_context(actor=..., via="cli")`; explicit `actor=`/`ip=` arguments to `audit_record`
always win. Threads of the inline executor start with an empty context, so runs executed there
never inherit a request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse

from wfaib.client_address import client_address


@dataclass(frozen=True)
class Actor:
    user: Any = None
    ip: str | None = None
    via: str = ""


_request: ContextVar[HttpRequest | None] = ContextVar("audit_request", default=None)
_override: ContextVar[Actor | None] = ContextVar("audit_actor", default=None)


def current_actor() -> Actor:
    """The acting user, client address and door of the current context (all may be empty)."""
    override = _override.get()
    if override is not None:
        return override
    request = _request.get()
    if request is None:
        return Actor()
    user = getattr(request, "user", None)
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    via = "admin" if request.path.startswith("/admin/") else "api"
    return Actor(user=user, ip=client_address(request), via=via)


@contextmanager
def audit_context(*, actor: Any = None, ip: str | None = None, via: str = "") -> Iterator[None]:
    """Attribute the audit events written inside the block to `actor` (CLI, scripts, tests)."""
    token = _override.set(Actor(user=actor, ip=ip, via=via))
    try:
        yield
    finally:
        _override.reset(token)


class AuditContextMiddleware:
    """Makes the request being served visible to `audit_record` (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)
