"""`{{ }}` templates in config strings: one whole template yields the raw value, mixed text
yields a string.

    render("Hello {{ input.name }}", {"input": {"name": "ada"}})     -> "Hello ada"
    render("{{ input.items }}", {"input": {"items": [1]}})           -> [1]
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .display import safe_str
from .evaluation import evaluate
from .limits import DEFAULT_TIMEOUT, EXPRESSION_LIMITS, ExpressionError

TEMPLATE_RE = re.compile(r"\{\{(.+?)\}\}", re.DOTALL)
WHOLE_TEMPLATE_RE = re.compile(r"^\s*\{\{(.+?)\}\}\s*$", re.DOTALL)


def stringify(value: Any) -> str:
    """A value's text inside a template: JSON for objects, lists and booleans, "" for None,
    address-free text for anything that is not data."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, (dict, list, bool)):
        return json.dumps(value, default=safe_str)
    return safe_str(value)


def render(template: str, names: Mapping[str, Any], *, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """Render `{{ }}` in a string. A string that is one whole template yields the raw value."""
    if "{{" not in template:
        return template
    whole = WHOLE_TEMPLATE_RE.match(template)
    if whole and "{{" not in whole.group(1):
        return evaluate(whole.group(1), names, timeout=timeout)
    parts: list[str] = []
    size = 0
    pos = 0
    for match in TEMPLATE_RE.finditer(template):
        parts.append(template[pos:match.start()])
        text = stringify(evaluate(match.group(1), names, timeout=timeout))
        size += len(text)
        if size > EXPRESSION_LIMITS.max_output:
            raise ExpressionError(template, "rendered text too large "
                                  f"(over {EXPRESSION_LIMITS.max_output:,} characters)")
        parts.append(text)
        pos = match.end()
    parts.append(template[pos:])
    return "".join(parts)


def render_value(value: Any, names: Mapping[str, Any], *, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """Render every string inside a JSON-like value (dict keys are left as they are)."""
    if isinstance(value, str):
        return render(value, names, timeout=timeout)
    if isinstance(value, dict):
        return {k: render_value(v, names, timeout=timeout) for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(v, names, timeout=timeout) for v in value]
    return value


def has_template(value: Any) -> bool:
    if isinstance(value, str):
        return "{{" in value
    if isinstance(value, dict):
        return any(has_template(v) for v in value.values())
    if isinstance(value, list):
        return any(has_template(v) for v in value)
    return False
