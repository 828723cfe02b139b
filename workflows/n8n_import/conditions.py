"""n8n conditions (If v2+, Switch v3 rules, the filter component; If v1's typed lists) as one
WFAIB expression.

    filter_expression(ctx, {"conditions": [{"leftValue": "={{ $json.n }}", "rightValue": 5,
                            "operator": {"type": "number", "operation": "gt"}}],
                            "combinator": "and"}, "conditions")      -> "(input.n) > (5)"
"""

from __future__ import annotations

from typing import Any

from .context import Context
from .expressions import Untranslatable

# operation -> a format of (left, right); `{l}`/`{r}` are Python expressions.
_BINARY = {
    "equals": "{l} == {r}", "notEquals": "{l} != {r}", "equal": "{l} == {r}",
    "notEqual": "{l} != {r}",
    "gt": "{l} > {r}", "lt": "{l} < {r}", "gte": "{l} >= {r}", "lte": "{l} <= {r}",
    "larger": "{l} > {r}", "smaller": "{l} < {r}", "largerEqual": "{l} >= {r}",
    "smallerEqual": "{l} <= {r}", "after": "{l} > {r}", "before": "{l} < {r}",
    "afterOrEquals": "{l} >= {r}", "beforeOrEquals": "{l} <= {r}",
    "contains": "{r} in {l}", "notContains": "{r} not in {l}",
    "startsWith": "str({l}).startswith(str({r}))", "endsWith": "str({l}).endswith(str({r}))",
    "notStartsWith": "not str({l}).startswith(str({r}))",
    "notEndsWith": "not str({l}).endswith(str({r}))",
    "lengthEquals": "len({l}) == {r}", "lengthNotEquals": "len({l}) != {r}",
    "lengthGt": "len({l}) > {r}", "lengthLt": "len({l}) < {r}",
    "lengthGte": "len({l}) >= {r}", "lengthLte": "len({l}) <= {r}",
}
_UNARY = {
    "exists": "{l} is not None", "notExists": "{l} is None",
    "empty": "not {l}", "notEmpty": "bool({l})", "isEmpty": "not {l}",
    "isNotEmpty": "bool({l})", "true": "{l} is True", "false": "{l} is False",
}
_NUMBER_TYPES = ("number",)


def _typed_literal(value: Any, kind: str) -> Any:
    """n8n stores a fixed right value as text in places; compare it as its type."""
    if isinstance(value, str) and not value.startswith("="):
        if kind in _NUMBER_TYPES:
            try:
                return float(value) if "." in value else int(value)
            except ValueError:
                return value
        if kind == "boolean" and value.lower() in ("true", "false"):
            return value.lower() == "true"
    return value


def one_condition(ctx: Context, left: Any, op: str, right: Any, kind: str, where: str,
                  *, case_sensitive: bool = True) -> str:
    if op in ("regex", "notRegex"):
        raise Untranslatable("regular-expression conditions are not translated")
    lhs = f"({ctx.expr(_typed_literal(left, kind), where + '.left')})"
    if op in _UNARY:
        return "(" + _UNARY[op].format(l=lhs) + ")"
    if op not in _BINARY:
        raise Untranslatable(f"the condition operation {op!r} is not translated")
    rhs = f"({ctx.expr(_typed_literal(right, kind), where + '.right')})"
    if kind == "string" and not case_sensitive:
        lhs, rhs = f"str({lhs}).lower()", f"str({rhs}).lower()"
    return "(" + _BINARY[op].format(l=lhs, r=rhs) + ")"


def filter_expression(ctx: Context, conditions: Any, where: str) -> str:
    """The filter component ({conditions: [...], combinator, options}) as one expression."""
    if not isinstance(conditions, dict):
        raise Untranslatable("conditions must be an object")
    items = conditions.get("conditions") or []
    options = conditions.get("options") or {}
    sensitive = options.get("caseSensitive", True) is not False
    parts = []
    for i, cond in enumerate(items):
        operator = cond.get("operator") or {}
        parts.append(one_condition(
            ctx, cond.get("leftValue"), str(operator.get("operation", "equals")),
            cond.get("rightValue"), str(operator.get("type", "string")),
            f"{where}[{i}]", case_sensitive=sensitive))
    if not parts:
        raise Untranslatable("no conditions")
    joiner = " or " if conditions.get("combinator") == "or" else " and "
    return joiner.join(parts)


def v1_expression(ctx: Context, conditions: Any, combine: str, where: str) -> str:
    """If v1: {string: [{value1, operation, value2}], number: [...], boolean: [...]}."""
    if not isinstance(conditions, dict):
        raise Untranslatable("conditions must be an object")
    parts = []
    for kind in ("boolean", "number", "string", "dateTime"):
        for i, cond in enumerate(conditions.get(kind) or []):
            parts.append(one_condition(ctx, cond.get("value1"),
                                       str(cond.get("operation", "equal")), cond.get("value2"),
                                       kind, f"{where}.{kind}[{i}]"))
    if not parts:
        raise Untranslatable("no conditions")
    return (" or " if combine == "any" else " and ").join(parts)
