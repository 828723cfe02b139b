"""A webhook request as the run's input (the `parse` step of runs/webhooks/gateway.py).

    parsed = parse_request(request, raw, options)          # Parsed(body, uploads), or refused
    input = build_input(request, options, parsed, refs)     # refs: {field: [file ref, ...]}

The shapes are documented on the webhook node (nodes/types/webhook.py): `body` (the default,
and the shape every run had before: a JSON body is the input as is, an empty body is {}) or
`request` ({method, query, headers, body, files}).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from nodes.context import FileRef

from .body import parse_json
from .kinds import Upload, body_kind, parse_form, parse_multipart, parse_text, parse_xml
from .options import WebhookOptions
from .rejected import WebhookRejected
from .signatures import TOKEN_HEADER

# Never copied into a run's input: credentials of the caller and of the webhook itself.
HIDDEN_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie",
                            TOKEN_HEADER.lower(), "webhook-signature", "x-csrftoken"})
KIND_TYPES = {"json": "application/json", "form": "application/x-www-form-urlencoded",
              "multipart": "multipart/form-data", "text": "text/plain", "xml": "application/xml"}
GATEWAY_PARAMS = frozenset({"wait"})  # query parameters the gateway itself reads


@dataclass
class Parsed:
    body: Any
    uploads: list[Upload] = field(default_factory=list)
    empty: bool = False


def query_of(request: HttpRequest) -> dict[str, Any]:
    return {key: (values[0] if len(values) == 1 else values)
            for key, values in request.GET.lists() if key not in GATEWAY_PARAMS}


def headers_of(request: HttpRequest) -> dict[str, str]:
    return {name.lower(): value for name, value in request.headers.items()
            if name.lower() not in HIDDEN_HEADERS}


def _refuse_kind(request: HttpRequest, options: WebhookOptions) -> WebhookRejected:
    taken = ", ".join(KIND_TYPES[k] for k in sorted(options.accept))
    return WebhookRejected(415, "unsupported_media_type",
                           f"this webhook takes {taken} (got "
                           f"{request.content_type or 'no content type'!r})")


def parse_request(request: HttpRequest, raw: bytes, options: WebhookOptions) -> Parsed:
    """The body by its content type, if the webhook node accepts that kind. A content type
    the webhook does not take is refused even with no body (a browser's cross-site form post
    never starts a run of a JSON webhook)."""
    kind = body_kind(request)
    if kind == "other" or (kind and kind not in options.accept):
        raise _refuse_kind(request, options)
    if not raw:
        return Parsed({}, empty=True)
    if kind == "form":
        return Parsed(parse_form(request, raw))
    if kind == "multipart":
        fields, uploads = parse_multipart(request, raw)
        return Parsed(fields, uploads)
    if kind == "text":
        return Parsed(parse_text(request, raw))
    if kind == "xml":
        return Parsed(parse_xml(request, raw))
    return Parsed(parse_json(raw, request))  # JSON, or no content type (refused there)


def unstored_refs(uploads: list[Upload]) -> dict[str, list[FileRef]]:
    """References of uploads that are not stored (a test event): an empty key."""
    refs: dict[str, list[FileRef]] = {}
    for upload in uploads:
        refs.setdefault(upload.field, []).append(
            {"name": upload.name, "size": len(upload.data), "content_type": upload.content_type,
             "key": ""})
    return refs


def build_input(request: HttpRequest, options: WebhookOptions, parsed: Parsed,
                refs: dict[str, list[FileRef]]) -> Any:
    if options.payload == "request":
        return {"method": request.method, "query": query_of(request),
                "headers": headers_of(request), "body": parsed.body, "files": refs}
    if parsed.empty and request.method == "GET":
        return query_of(request)
    if refs:
        body = parsed.body if isinstance(parsed.body, dict) else {}
        return {**body, **{name: (found[0] if len(found) == 1 else found)
                           for name, found in refs.items()}}
    return parsed.body
