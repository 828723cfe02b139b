"""Serving webhooks from an origin of their own (the recommended production set-up).

    WFAIB_WEBHOOK_BASE_URL=https://hooks.example.com   # the URLs the app shows for webhooks
    WFAIB_WEBHOOK_HOSTS=hooks.example.com              # host names that serve only webhooks

With WEBHOOK_HOSTS set, `WebhookHostMiddleware` routes by the request's host: on those hosts
only the webhook, resume and health endpoints answer (everything else 404 `not_found`), and on
every other host the webhook and resume endpoints answer 404 (pointing at the webhook origin).
A respond node's page then never shares an origin with the admin or the API, so even a browser
ignoring the answer's `Content-Security-Policy: sandbox` cannot reach the app with a user's
cookies. The webhook hosts are added to ALLOWED_HOSTS by the settings.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import orjson
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port
from django.urls import reverse

from wfaib.conf import wfaib_settings
from wfaib.exceptions import error_body
from wfaib.url_paths import numbered_path

WEBHOOK_PATHS = ("/api/webhook/", "/api/resume/", "/hook/")
_ALSO_ON_WEBHOOK_HOSTS = ("/api/health",)


def webhook_hosts() -> frozenset[str]:
    """The configured webhook hosts, normalised (read on every webhook request, twice)."""
    hosts = wfaib_settings.WEBHOOK_HOSTS
    return _normalised(tuple(hosts)) if hosts else _NONE


_NONE: frozenset[str] = frozenset()


@lru_cache(maxsize=8)
def _normalised(hosts: tuple[str, ...]) -> frozenset[str]:
    return frozenset(h.strip().lower().rstrip(".") for h in hosts if h.strip())


def webhook_base_url() -> str:
    """Where webhooks are reached: WFAIB_WEBHOOK_BASE_URL, else WFAIB_BASE_URL."""
    return str(wfaib_settings.WEBHOOK_BASE_URL or wfaib_settings.BASE_URL).rstrip("/")


def _host(request: HttpRequest) -> str:
    domain, _port = split_domain_port(request.get_host())
    return domain


def on_webhook_host(request: HttpRequest) -> bool:
    hosts = webhook_hosts()
    return bool(hosts) and _host(request) in hosts


def webhook_url(request: HttpRequest | None, workflow_id: int) -> str:
    """The URL a workflow's webhook is called at, as the app shows it."""
    path = reverse("webhook", kwargs={"workflow_id": workflow_id})
    if wfaib_settings.WEBHOOK_BASE_URL:
        return webhook_base_url() + path
    return request.build_absolute_uri(path) if request is not None else path


def run_url(request: HttpRequest, run_id: int) -> str:
    """The API URL of a run, for a webhook's answer: on the app's origin (WFAIB_BASE_URL)
    when the request came in on a webhook host, where the API does not answer."""
    path = numbered_path("run-detail", "pk", run_id)
    if on_webhook_host(request):
        return str(wfaib_settings.BASE_URL).rstrip("/") + path
    # build_absolute_uri(path) without splitting and quoting again what reverse() made and
    # get_host() validated (only letters, digits, ".", "-", ":" and an IPv6 address's [])
    return f"{request.scheme}://{request.get_host()}{path}"


def _not_found(message: str) -> HttpResponse:
    response = HttpResponse(orjson.dumps(error_body("not_found", message)), status=404,
                            content_type="application/json")
    response["Content-Security-Policy"] = "sandbox"
    return response


class WebhookHostMiddleware:
    """Host-based routing between the app and its webhook origin (see the module docstring);
    does nothing unless WFAIB_WEBHOOK_HOSTS is set."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if webhook_hosts():
            path = request.path_info
            is_webhook_path = path.startswith(WEBHOOK_PATHS)
            if on_webhook_host(request):
                if not (is_webhook_path or path in _ALSO_ON_WEBHOOK_HOSTS):
                    return _not_found("this host serves webhooks only")
            elif is_webhook_path:
                return _not_found(f"webhooks are served at {webhook_base_url()}")
        return self.get_response(request)
