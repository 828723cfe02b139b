"""Every answer under /api/ is JSON, whatever DEBUG says and whichever layer refused.

DRF's exception handler (wfaib/exceptions.py) shapes the errors DRF views raise. Some answers
never reach it: Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE (RequestDataTooBig)
or a suspicious request before or outside a DRF view, an unknown URL is a Resolver404, a CSRF
failure or a plain-Django view may answer with a page, and under DEBUG=1 Django answers those
with its technical (HTML) pages. This middleware, scoped to /api/, closes each gap:

    413 {"code": "body_too_large"}   Content-Length over the limit, before anything reads it
    400 {"code": "bad_request"}      SuspiciousOperation raised by a view
    404 {"code": "not_found"}        Http404 / unknown URL, also under DEBUG
    4xx/5xx HTML page                -> {"code": <by status>, "message": <reason phrase>}

Answers a workflow built itself (a webhook's `respond` node, marked X-Run-Id) pass untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse

from .exceptions import error_body

API_PREFIX = "/api/"
# The webhook gateway reads its bodies within limits of its own (WFAIB_WEBHOOK_MAX_BODY, and
# WFAIB_WEBHOOK_MAX_UPLOAD for multipart uploads): runs/webhooks/body.py.
OWN_BODY_LIMIT = ("/api/webhook/",)

_CODES = {400: "bad_request", 401: "not_authenticated", 403: "permission_denied",
          404: "not_found", 405: "method_not_allowed", 413: "body_too_large",
          415: "unsupported_media_type", 429: "throttled", 500: "server_error",
          502: "bad_gateway", 503: "service_unavailable", 504: "gateway_timeout"}


def body_limit() -> int | None:
    """Django's own body limit, which fires before any parser of ours."""
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def too_large(limit: int) -> JsonResponse:
    return JsonResponse(error_body("body_too_large",
                                   f"the request body is larger than {limit} bytes"), status=413)


def code_for(status: int) -> str:
    if status in _CODES:
        return _CODES[status]
    return "client_error" if status < 500 else "server_error"


def _is_page(response: HttpResponse) -> bool:
    """An error page a layer below rendered (HTML or text), not an answer in the API's shape."""
    if response.status_code < 400 or response.has_header("X-Run-Id"):
        return False
    content_type = response.get("Content-Type", "")
    return not content_type.startswith("application/json") and \
        not content_type.endswith("+json")


class ApiErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        limit = body_limit()
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit and not request.path.startswith(OWN_BODY_LIMIT):
            return too_large(limit)
        response = self.get_response(request)
        if _is_page(response):
            status = response.status_code
            phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ \
                else "error"
            message = f"{phrase.lower()}: {request.method} {request.path}"
            answer = JsonResponse(error_body(code_for(status), message), status=status)
            for header in ("Allow", "Retry-After", "WWW-Authenticate"):
                if response.has_header(header):
                    answer[header] = response[header]
            return answer
        return response

    def process_exception(self, request: HttpRequest,
                          exception: Exception) -> HttpResponse | None:
        """Exceptions from plain-Django views under /api/ (DRF views shape their own)."""
        if not request.path.startswith(API_PREFIX):
            return None
        if isinstance(exception, RequestDataTooBig):
            return too_large(body_limit() or 0)
        if isinstance(exception, SuspiciousOperation):
            return JsonResponse(error_body("bad_request", str(exception) or "bad request"),
                                status=400)
        if isinstance(exception, Http404):
            return JsonResponse(error_body("not_found", f"no such URL: {request.path}"),
                                status=404)
        if isinstance(exception, PermissionDenied):
            return JsonResponse(error_body("permission_denied", str(exception)
                                           or "permission denied"), status=403)
        return None  # a server error: handler500 / the 500 middleware answer it
