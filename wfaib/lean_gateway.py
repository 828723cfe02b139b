"""The lean gateway: public webhook paths skip the middleware they do not need.

    MIDDLEWARE = [..., "wfaib.api_errors.ApiErrorMiddleware",
                  "wfaib.lean_gateway.LeanGatewayMiddleware",   # here
                  "django.contrib.sessions.middleware.SessionMiddleware", ...]

A webhook (`/api/webhook/<id>`, `/hook/<path>`, `/hook/test/<path>`) is public: the URL and
the workflow's own token or signature are its authentication. Sessions, CommonMiddleware,
CSRF, user authentication, messages, the audit context and the login lockout (axes) do nothing
for it but cost about two thirds of a bare endpoint under load (bench/RESULTS.md). For these
paths this middleware resolves the URL and calls the view itself, so the middleware below it
never runs; everything above it (SecurityMiddleware's HSTS / nosniff / referrer / COOP
headers, the request id, load shedding, the webhook host routing, CORS, the API's JSON errors)
still does. The headers the skipped CSP and clickjacking middleware would add are set on every
answer by `harden` (the webhook views harden their own answers; this middleware hardens an
error page too), and since no session is touched, no cookie is ever set.

A path under these prefixes that resolves to nothing goes the usual way (the full stack).

A path's resolution is kept (`resolved`, the last RESOLVED_PATHS paths): Django's resolver
tries the URL patterns one by one on every request, which cost an accepted webhook ~3 % of its
CPU (bench/RESULTS.md). It is kept per resolver, so a changed URL configuration (a test's
ROOT_URLCONF, `clear_url_caches`) resolves anew.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from django.core.handlers.exception import response_for_exception
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, ResolverMatch, URLResolver, get_resolver

LEAN_PATHS = ("/api/webhook/", "/hook/")
RESOLVED_PATHS = 512  # ~1.8 KB each (tracemalloc): ~0.9 MB full; a flood only evicts old ones

# The headers every lean answer carries (runs.webhooks.http.harden sets the same).
HARDENING = {
    "Content-Security-Policy": "sandbox",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


class LeanGatewayMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(LEAN_PATHS):
            return self.get_response(request)
        match = resolved(get_resolver(getattr(request, "urlconf", None)), request.path_info)
        if match is None:
            return self.get_response(request)
        request.resolver_match = match
        try:
            response = match.func(request, *match.args, **match.kwargs)
        except Exception as exc:  # the same error answer the full stack would give
            response = response_for_exception(request, exc)
        for name, value in HARDENING.items():
            if name not in response:
                response[name] = value
        if not response.streaming and "Content-Length" not in response:  # as CommonMiddleware
            response["Content-Length"] = str(len(response.content))
        return response


@lru_cache(maxsize=RESOLVED_PATHS)
def resolved(resolver: URLResolver, path: str) -> ResolverMatch | None:
    """What `path` resolves to (None: nothing), kept for the next request to it. Nothing
    changes a ResolverMatch after it is made, so requests can share one."""
    try:
        return resolver.resolve(path)
    except Resolver404:
        return None
