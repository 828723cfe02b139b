"""`respond`: sets the HTTP answer for the webhook call that started the run.

The answer ({status, headers, body}) is stored on the run at once, so a synchronous webhook
caller gets it while the run goes on. The first respond node of a run wins; the node passes its
input on unchanged.

Headers a node may set (the allowlist, `header_refusal`): Content-Type (one of
`CONTENT_TYPES`), caching and validators (Cache-Control, Expires, Pragma, ETag, Last-Modified,
Vary), Content-Disposition, Content-Language, Location (an http(s) URL or a path),
Retry-After, and custom `X-*` headers that are not security or proxy headers. Everything else,
notably Set-Cookie, Content-Security-Policy, X-Frame-Options, X-Content-Type-Options,
Access-Control-*, Strict-Transport-Security, Refresh, Link and WWW-Authenticate, is refused when
the workflow is saved and dropped at run time (`safe_headers`), since a header value may be an
expression. The webhook gateway adds `Content-Security-Policy: sandbox` and `nosniff` to every
answer whatever the node says (runs/webhooks/views.py).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from ..base import NodeConfig, NodeError, NodeType, expression_field
from ..context import NodeContext
from ..registry import register

ALLOWED_HEADERS = frozenset({
    "content-type", "cache-control", "expires", "pragma", "etag", "last-modified", "vary",
    "content-disposition", "content-language", "location", "retry-after",
})
# Custom X-* headers a node may not set: security, proxy and server-internal ones.
FORBIDDEN_X_HEADERS = frozenset({
    "x-frame-options", "x-content-type-options", "x-xss-protection",
    "x-permitted-cross-domain-policies", "x-dns-prefetch-control", "x-download-options",
    "x-ua-compatible", "x-sendfile", "x-lighttpd-send-file", "x-real-ip", "x-csrftoken",
    "x-run-id", "x-webhook-token",
})
FORBIDDEN_X_PREFIXES = ("x-accel-", "x-forwarded-")
# Media types a node may answer with. HTML is allowed (as in n8n) and shown inert: the gateway's
# `Content-Security-Policy: sandbox` runs no script and gives it an origin of its own. Types a
# browser runs script in outside that policy's reach (SVG, XHTML, XSLT, JavaScript) are not.
CONTENT_TYPES = frozenset({
    "application/json", "text/plain", "text/html", "text/csv", "text/markdown", "text/calendar",
    "application/xml", "text/xml", "application/pdf", "application/octet-stream",
    "application/zip", "image/png", "image/jpeg", "image/gif", "image/webp",
})
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an RFC 9110 header name


def header_refusal(name: str) -> str | None:
    """Why a respond node may not set the header `name`, or None when it may."""
    if not _TOKEN.match(name):
        return f"{name!r} is not a valid header name"
    lower = name.lower()
    if lower in ALLOWED_HEADERS:
        return None
    if lower.startswith("x-") and lower not in FORBIDDEN_X_HEADERS \
            and not lower.startswith(FORBIDDEN_X_PREFIXES):
        return None
    return (f"{name} cannot be set by a respond node (security, cookie and server headers are "
            f"the server's); allowed: Content-Type, Cache-Control, Expires, Pragma, ETag, "
            f"Last-Modified, Vary, Content-Disposition, Content-Language, Location, "
            f"Retry-After and custom X-* headers")


def value_refusal(name: str, value: str) -> str | None:
    """Why `value` is not allowed for the (allowed) header `name`, or None."""
    if "\r" in value or "\n" in value or "\0" in value:
        return f"{name}: the value may not contain line breaks"
    lower = name.lower()
    if lower == "content-type":
        media, _, params = value.partition(";")
        media = media.strip().lower()
        if media not in CONTENT_TYPES:
            return (f"Content-Type {media or value!r} is not allowed; use one of "
                    f"{', '.join(sorted(CONTENT_TYPES))}")
        for param in filter(None, (p.strip() for p in params.split(";"))):
            key, _, _ = param.partition("=")
            if key.strip().lower() != "charset":
                return f"Content-Type: only a charset parameter is allowed, not {param!r}"
    if lower == "location":
        parts = urlsplit(value.strip())
        relative = not parts.scheme and not parts.netloc and value.strip().startswith("/") \
            and not value.strip().startswith(("//", "/\\"))
        if not relative and parts.scheme.lower() not in ("http", "https"):
            return "Location must be an http(s) URL or a path starting with /"
    return None


def safe_headers(headers: Any) -> dict[str, str]:
    """The headers of a stored answer that may be sent: allowed names, clean values (the
    second line of defence after the save-time check; expressions are rendered by now)."""
    if not isinstance(headers, dict):
        return {}
    kept: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str | int | float) \
                or isinstance(value, bool):
            continue
        text = str(value)
        if header_refusal(name) is None and value_refusal(name, text) is None:
            kept[name] = text
    return kept


class RespondConfig(NodeConfig):
    status: int | str = Field(200, description="HTTP status (100-599) or an expression.",
                              json_schema_extra=expression_field())
    headers: dict[str, str] = Field(
        default_factory=dict, json_schema_extra=expression_field(),
        description="Response headers: Content-Type, caching, Content-Disposition, Location "
                    "and custom X-* headers; security and cookie headers are the server's.")
    body: Any = Field("{{ input }}", description="The response body (JSON).",
                      json_schema_extra=expression_field(format="json"))

    @field_validator("status")
    @classmethod
    def _status(cls, value: int | str) -> int | str:
        if isinstance(value, str) and "{{" in value:
            return value  # rendered at run time, checked again then
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValueError("must be an HTTP status between 100 and 599") from None
        if not 100 <= number <= 599:
            raise ValueError("must be an HTTP status between 100 and 599")
        return number

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        # Also run on the rendered config before the node runs, so values from expressions
        # are checked then.
        for name, text in value.items():
            message = header_refusal(name)
            if message is None and "{{" not in text:  # expressions are checked at run time
                message = value_refusal(name, text)
            if message:
                raise ValueError(message)
        return value


@register
class RespondNode(NodeType):
    type = "respond"
    label = "Respond to webhook"
    category = "flow"
    description = "Sets the webhook's HTTP response now; the run may go on afterwards."
    icon = "reply"
    Config = RespondConfig
    inline_only = True  # writes the run's response from the engine's thread
    timeout = 10.0

    def run(self, ctx: NodeContext, config: RespondConfig, input: Any) -> Any:
        if not isinstance(config.status, int):
            raise NodeError(f"status {config.status!r} is not an HTTP status")
        ctx.respond(status=config.status, headers=config.headers, body=config.body)
        return input
