"""The one expression sandbox: `{{ }}` templates, transform expressions and mappings.

    evaluate("input.name.upper()", {"input": {"name": "ada"}})       -> "ADA"
    render("Hello {{ input.name }}", {"input": {"name": "ada"}})     -> "Hello ada"

Built on asteval with an empty symbol table plus a short list of safe builtins (no `open`, no
import, no dunder attributes), a wall-clock deadline checked at every AST node, and size guards
on operations that allocate. Interpreters are reused per thread and parsed expressions cached,
so an evaluation costs no set-up.
"""

from __future__ import annotations

import ast
import json
import math
import re
import threading
import time
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from asteval import Interpreter

TEMPLATE_RE = re.compile(r"\{\{(.+?)\}\}", re.DOTALL)
WHOLE_TEMPLATE_RE = re.compile(r"^\s*\{\{(.+?)\}\}\s*$", re.DOTALL)

DEFAULT_TIMEOUT = 2.0
MAX_SEQUENCE = 1_000_000  # items a single operation may build
MAX_STRING = 10_000_000  # characters a single operation may build
MAX_EXPRESSION_LENGTH = 20_000


class ExpressionError(Exception):
    """An expression failed; `str()` gives the expression and the reason."""

    def __init__(self, expression: str, reason: str):
        super().__init__(f"{reason} (in expression: {expression.strip()[:200]})")
        self.expression = expression
        self.reason = reason


class Namespace(dict):
    """A dict whose keys also read as attributes (`input.name`), wrapping nested dicts lazily."""

    __slots__ = ()

    def __getattribute__(self, key: str) -> Any:
        # Keys win over dict methods, so `input.items` is the payload's "items" field.
        if dict.__contains__(self, key):
            return wrap(dict.__getitem__(self, key))
        return object.__getattribute__(self, key)

    def __getattr__(self, key: str) -> Any:
        raise AttributeError(f"no key {key!r}")


def wrap(value: Any) -> Any:
    if isinstance(value, dict) and not isinstance(value, Namespace):
        return Namespace(value)
    return value


def _size_of(value: Any) -> int:
    try:
        return len(value)
    except TypeError:
        return 0


def _safe_range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_SEQUENCE:
        raise ValueError(f"range of {len(r)} items exceeds the limit of {MAX_SEQUENCE}")
    return r


def _json_dumps(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, default=str, indent=indent if indent and indent <= 8 else None)


SAFE_BUILTINS: dict[str, Any] = {
    "True": True,
    "False": False,
    "None": None,
    "abs": abs,
    "all": all,
    "any": any,
    "bool": bool,
    "dict": dict,
    "divmod": divmod,
    "enumerate": enumerate,
    "filter": filter,
    "float": float,
    "int": int,
    "isinstance": isinstance,
    "len": len,
    "list": list,
    "map": map,
    "max": max,
    "min": min,
    "range": _safe_range,
    "reversed": reversed,
    "round": round,
    "set": set,
    "sorted": sorted,
    "str": str,
    "sum": sum,
    "tuple": tuple,
    "zip": zip,
    "json_dumps": _json_dumps,
    "json_loads": json.loads,
    "math_floor": math.floor,
    "math_ceil": math.ceil,
    "math_sqrt": math.sqrt,
}


class _BoundedInterpreter(Interpreter):
    """asteval with a deadline checked at every node and size guards on allocating ops."""

    deadline: float = math.inf

    def run(self, node, expr=None, lineno=None, with_raise=True):  # type: ignore[override]
        if time.monotonic() > self.deadline:
            raise TimeoutError("expression took too long")
        return super().run(node, expr=expr, lineno=lineno, with_raise=with_raise)

    def on_binop(self, node):  # type: ignore[override]
        if isinstance(node.op, ast.Mult):
            left = self.run(node.left)
            right = self.run(node.right)
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, bytes, list, tuple)) and isinstance(n, int):
                    if _size_of(seq) * n > (MAX_STRING if isinstance(seq, str) else MAX_SEQUENCE):
                        raise MemoryError("result of repetition would be too large")
            return left * right
        return super().on_binop(node)


def _new_interpreter() -> _BoundedInterpreter:
    interp = _BoundedInterpreter(
        symtable={}, use_numpy=False, minimal=False, max_statement_length=MAX_EXPRESSION_LENGTH
    )
    # Statements an expression has no use for: definitions, imports, loops with side effects.
    for handler in ("import", "importfrom", "functiondef", "lambda", "while", "with",
                    "try", "raise", "delete", "print"):
        interp.remove_nodehandler(handler)
    return interp


_local = threading.local()


def _interpreter() -> _BoundedInterpreter:
    interp = getattr(_local, "interp", None)
    if interp is None:
        interp = _local.interp = _new_interpreter()
    return interp


@lru_cache(maxsize=4096)
def _parse(expression: str) -> ast.AST:
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise ValueError(f"expression longer than {MAX_EXPRESSION_LENGTH} characters")
    return ast.parse(expression.strip(), mode="exec")


def evaluate(
    expression: str, names: Mapping[str, Any], *, timeout: float = DEFAULT_TIMEOUT
) -> Any:
    """Evaluate one expression against `names`; raise ExpressionError on any failure."""
    try:
        tree = _parse(expression)
    except (SyntaxError, ValueError) as exc:
        raise ExpressionError(expression, f"syntax error: {exc.msg if isinstance(exc, SyntaxError) else exc}") from None
    interp = _interpreter()
    symtable = interp.symtable
    symtable.clear()
    symtable.update(SAFE_BUILTINS)
    for key, value in names.items():
        symtable[key] = wrap(value)
    interp.error = []
    interp.error_msg = None
    interp.code_text = []
    interp.retval = None
    interp._interrupt = None
    interp._calldepth = 0
    interp.deadline = time.monotonic() + timeout
    interp.expr = expression
    try:
        result = interp.run(tree, expr=expression, with_raise=True)
    except TimeoutError:
        raise ExpressionError(expression, f"timed out after {timeout:g}s") from None
    except Exception as exc:  # asteval re-raises the user's error type
        raise ExpressionError(expression, _reason(interp, exc)) from None
    finally:
        interp.deadline = math.inf
        symtable.clear()
    if interp.error:
        raise ExpressionError(expression, _reason(interp, None))
    return result


def _reason(interp: Interpreter, exc: BaseException | None) -> str:
    if interp.error:
        err = interp.error[-1]
        kind = getattr(err.exc, "__name__", None) or "Error"
        msg = str(err.msg or "").strip() or (str(exc) if exc else "")
        return f"{kind}: {msg}" if msg else kind
    return f"{type(exc).__name__}: {exc}" if exc else "evaluation failed"


def _stringify(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, (dict, list, bool)):
        return json.dumps(value, default=str)
    return str(value)


def render(template: str, names: Mapping[str, Any], *, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """Render `{{ }}` in a string. A string that is one whole template yields the raw value."""
    if "{{" not in template:
        return template
    whole = WHOLE_TEMPLATE_RE.match(template)
    if whole and "{{" not in whole.group(1):
        return evaluate(whole.group(1), names, timeout=timeout)
    return TEMPLATE_RE.sub(
        lambda m: _stringify(evaluate(m.group(1), names, timeout=timeout)), template
    )


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
