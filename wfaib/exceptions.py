"""The API's one error shape: {"code": "<machine_code>", "message": "<human text>", ...extra}.

DRF's exception handler is wrapped so every API error (validation, auth, 404, throttling,
domain errors such as a stale version or an invalid definition) answers in that shape:

    400 {"code": "invalid", "message": "name: This field is required.",
         "fields": {"name": ["This field is required."]}}
    400 {"code": "invalid_definition", "message": ..., "errors": [{"path", "message"}]}
    409 {"code": "version_conflict", "message": ..., "current_version": 4}
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from . import metrics
from .errors import DomainError


class DefinitionErrorSerializer(serializers.Serializer):
    path = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """Every API error. Extra keys depend on the code (documented with each)."""

    code = serializers.CharField(help_text="Machine-readable error code.")
    message = serializers.CharField(help_text="What went wrong, for a person.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False,
        help_text="code=invalid: the messages per request field.")
    errors = DefinitionErrorSerializer(
        many=True, required=False, help_text="code=invalid_definition: the validator's list.")
    current_version = serializers.IntegerField(
        required=False, help_text="code=version_conflict: the version stored now.")
    project = serializers.DictField(
        required=False, help_text="code=mfa_required_by_project: {id, name} of the project "
                                  "that requires two-factor sign-in.")
    enrol_url = serializers.CharField(
        required=False, help_text="code=mfa_required_by_project: where to turn 2FA on.")


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, **extra}


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested ValidationError detail as {"a.b[0].c": ["message", ...]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            path = f"{prefix}.{name}" if prefix and name else (prefix or name)
            out.update(_flatten(value, path))
    elif isinstance(detail, list) and detail and not all(isinstance(d, str) for d in detail):
        for i, value in enumerate(detail):
            out.update(_flatten(value, f"{prefix}[{i}]"))
    else:
        items = detail if isinstance(detail, list) else [detail]
        out.setdefault(prefix, []).extend(str(d) for d in items)
    return out


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, **exc.extra()), status=exc.status)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.Throttled):
        metrics.rate_limited("api")
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        message = "; ".join(f"{k}: {' '.join(v)}" if k else " ".join(v)
                            for k, v in fields.items()) or "invalid input"
        response.data = error_body("invalid", message, fields=fields)
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        code = getattr(detail, "code", None) or exc.default_code
        response.data = error_body(str(code), str(detail))
    else:  # Http404 / PermissionDenied converted by DRF
        code = "not_found" if response.status_code == 404 else "permission_denied"
        response.data = error_body(code, str(response.data.get("detail", exc)))
    return response


def json_404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """handler404: the API's error shape under /api/, Django's page elsewhere."""
    if not request.path.startswith("/api/"):
        from django.views.defaults import page_not_found

        return page_not_found(request, exception)
    return JsonResponse(error_body("not_found", f"no such URL: {request.path}"), status=404)
