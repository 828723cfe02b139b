"""POST /api/expressions/check: check an expression or template while the user types.

    POST /api/expressions/check
    {"expression": "{{ trigger.x > 5 }}", "names": {"trigger": {"x": 7}}}
    -> {"ok": true, "error": null, "value": true, "type": "bool", "kind": "expression"}

`kind` "template" (default for text holding `{{ }}`) renders text with templates the way a
config field is rendered; "expression" (the If, Switch, Transform fields) evaluates one
expression, written `{{ ... }}` or bare. `names` is sample data (`input`, `trigger`, `nodes`,
`vars`, ...); with `workflow` (an id the user may view) its project's variables are `vars`;
with `run` (and `node`) the names that run's nodes saw (its trigger, node outputs, the node's
input), so the preview shows real data. `names` given override both.
A syntax problem answers `ok: false` without evaluating; the value preview is cut to
PREVIEW_CHARS of JSON. Nothing runs outside the sandbox and nothing is stored.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.base import get_scoped
from nodes.config_fields import TEMPLATE, syntax_problem, unwrap
from wfaib.conf import wfaib_settings
from wfaib.exceptions import ErrorSerializer
from workflows.selectors import workflows_visible_to
from workflows.variables import variables_of

from ..engine.expressions import ExpressionError, evaluate, render
from ..engine.state import jsonable
from ..selectors import run_expression_names, runs_visible_to

MAX_NAMES_BYTES = 1_000_000
PREVIEW_CHARS = 2_000


class ExpressionCheckSerializer(serializers.Serializer):
    expression = serializers.CharField(max_length=10_000, trim_whitespace=False,
                                       help_text="The text of the field.")
    kind = serializers.ChoiceField(choices=["template", "expression"], required=False,
                                   help_text="template: text with {{ }}; expression: one "
                                             "expression (If, Switch, Transform fields).")
    names = serializers.DictField(required=False, default=dict,
                                  help_text="Sample data: input, trigger, nodes, vars, item...")
    workflow = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1,
                                        help_text="Its project's variables become `vars`.")
    run = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1,
                                   help_text="Use this run's data: trigger, nodes, input.")
    node = serializers.CharField(required=False, max_length=100,
                                 help_text="With `run`: the node whose input is `input`.")

    def validate_names(self, value: dict[str, Any]) -> dict[str, Any]:
        try:
            size = len(orjson.dumps(value))
        except (TypeError, orjson.JSONEncodeError):
            raise serializers.ValidationError("must be JSON data") from None
        if size > MAX_NAMES_BYTES:
            raise serializers.ValidationError(f"at most {MAX_NAMES_BYTES:,} bytes of JSON")
        bad = [k for k in value if not k.isidentifier() or k.startswith("_")]
        if bad:
            raise serializers.ValidationError(f"not a name: {bad[0][:50]!r}")
        return value


class ExpressionCheckResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    kind = serializers.CharField()
    error = serializers.CharField(allow_null=True)
    value = serializers.JSONField(allow_null=True)
    type = serializers.CharField(allow_null=True)
    truncated = serializers.BooleanField()


def _type_name(value: Any) -> str:
    for cls, name in ((bool, "bool"), (int, "number"), (float, "number"), (str, "string"),
                      (list, "list"), (dict, "object"), (type(None), "null")):
        if isinstance(value, cls):
            return name
    return type(value).__name__


def _preview(value: Any) -> tuple[Any, bool]:
    value = jsonable(value)
    text = orjson.dumps(value).decode()
    if len(text) <= PREVIEW_CHARS:
        return value, False
    return text[:PREVIEW_CHARS], True


def check_expression(text: str, kind: str, names: dict[str, Any]) -> dict[str, Any]:
    """The check's answer (no request code: the editor's preview and tests use it)."""
    sources = [unwrap(text)] if kind == "expression" else \
        [m.group(1).strip() for m in TEMPLATE.finditer(text)]
    for source in sources:
        problem = syntax_problem(source)
        if problem:
            return {"ok": False, "kind": kind, "error": problem, "value": None, "type": None,
                    "truncated": False}
    timeout = float(wfaib_settings.EXPRESSION_TIMEOUT)
    try:
        value = evaluate(text, names, timeout=timeout) if kind == "expression" \
            else render(text, names, timeout=timeout)
    except ExpressionError as exc:
        return {"ok": False, "kind": kind, "error": exc.reason, "value": None, "type": None,
                "truncated": False}
    preview, truncated = _preview(value)
    return {"ok": True, "kind": kind, "error": None, "value": preview,
            "type": _type_name(jsonable(value)), "truncated": truncated}


class ExpressionCheckView(APIView):
    """Check an expression or `{{ }}` template against sample data (for the editor)."""

    read_only_token_may_post = True  # it reads and changes nothing

    @extend_schema(request=ExpressionCheckSerializer,
                   responses={200: ExpressionCheckResultSerializer,
                              404: OpenApiResponse(ErrorSerializer,
                                                   description="`workflow` or `run` is not "
                                                               "one of yours")},
                   tags=["expressions"],
                   operation_id="expressions_check")
    def post(self, request: Request) -> Response:
        body = ExpressionCheckSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        text = data["expression"]
        kind = data.get("kind") or "template"
        names: dict[str, Any] = {"input": None, "trigger": None, "nodes": {}, "run": {},
                                 "now": timezone.now().isoformat(), "vars": {}}
        if data.get("workflow"):
            workflow = get_scoped(workflows_visible_to, request, data["workflow"], "view")
            names["vars"] = variables_of(workflow.project_id)
        if data.get("run"):
            run = get_scoped(runs_visible_to, request, data["run"], "view",
                             project_lookup="workflow__project")
            names.update(run_expression_names(run, data.get("node")))
            names["vars"] = variables_of(run.workflow.project_id)
        names.update(data["names"])
        return Response(check_expression(text, kind, names))
