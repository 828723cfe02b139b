"""Parsing (cached, bounded) and the entry points: evaluate an expression, execute code.

    evaluate("input.name.upper()", {"input": {"name": "ada"}})       -> "ADA"
    execute("total = sum(input)\\nresult = total * 2", {"input": [1, 2]}, timeout=5)  -> 6
"""

from __future__ import annotations

import ast
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from nodes.config_fields import unwrap

from .asteval_import import Interpreter
from .display import scrub
from .guards import describe
from .interpreter import Sandbox
from .limits import (
    DEFAULT_TIMEOUT,
    EXPRESSION_LIMITS,
    MAX_CODE_LENGTH,
    MAX_EXPRESSION_LENGTH,
    SCALARS,
    ExpressionError,
    Limits,
    SandboxLimit,
    measure,
)

# --- parsing ---------------------------------------------------------------------------------

def _depth(tree: ast.AST) -> int:
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


_LOOKUP_NODES = (ast.Module, ast.Expr, ast.Name, ast.Attribute, ast.Subscript, ast.Constant,
                 ast.Load, ast.Index if hasattr(ast, "Index") else ast.Constant)


_ASYNC_NODES = (ast.AsyncFunctionDef, ast.AsyncFor, ast.AsyncWith, ast.Await)


def _unsupported(tree: ast.AST) -> str | None:
    """Syntax the interpreter would misread rather than refuse: refused up front."""
    for node in ast.walk(tree):
        if isinstance(node, _ASYNC_NODES) or getattr(node, "is_async", False):
            return "async code is not supported"
        if isinstance(node, ast.arguments) and (node.kwonlyargs or node.posonlyargs):
            return "keyword-only and positional-only parameters are not supported"
    return None


@dataclass(frozen=True)
class Parsed:
    tree: ast.Module
    lookup_only: bool  # only names, attributes, constant subscripts: builds nothing new


@lru_cache(maxsize=4096)
def _parse(expression: str, max_length: int = MAX_EXPRESSION_LENGTH,
           max_depth: int = EXPRESSION_LIMITS.max_ast_depth) -> Parsed:
    if len(expression) > max_length:
        raise ValueError(f"longer than {max_length} characters")
    try:
        tree = ast.parse(expression.strip() if max_length == MAX_EXPRESSION_LENGTH
                         else expression, mode="exec")
    except (RecursionError, MemoryError):
        raise ValueError("nested too deeply") from None
    if _depth(tree) > max_depth:
        raise ValueError(f"nested more than {max_depth} levels deep")
    problem = _unsupported(tree)
    if problem:
        raise ValueError(problem)
    lookup = all(isinstance(n, _LOOKUP_NODES) for n in ast.walk(tree))
    return Parsed(tree, lookup)


def _parse_error(exc: Exception) -> tuple[str, int | None]:
    if isinstance(exc, SyntaxError):
        return f"syntax error: {exc.msg}", exc.lineno
    return f"syntax error: {exc}", None


# --- public API ------------------------------------------------------------------------------

_local = threading.local()


def _sandbox() -> Sandbox:
    sb = getattr(_local, "sandbox", None)
    if sb is None:
        sb = _local.sandbox = Sandbox()
    return sb


def evaluate(
    expression: str, names: Mapping[str, Any], *, timeout: float = DEFAULT_TIMEOUT
) -> Any:
    """Evaluate one expression against `names`; raise ExpressionError on any failure.
    `{{ expression }}` is the expression (one syntax in every field)."""
    if "{{" in expression:
        expression = unwrap(expression)
    try:
        parsed = _parse(expression)
    except (SyntaxError, ValueError) as exc:
        raise ExpressionError(expression, _parse_error(exc)[0]) from None
    sb = _sandbox()
    sb.reset(names, timeout)
    sb.expr = expression
    try:
        result = sb.run(parsed.tree, expr=expression, with_raise=True)
        if not sb.error and not parsed.lookup_only and not isinstance(result, SCALARS):
            measure(result, sb.limits.max_output)
    except SandboxLimit as exc:
        raise ExpressionError(expression, _limit_reason(exc, timeout)) from None
    except Exception as exc:  # asteval re-raises the user's error type
        raise ExpressionError(expression, _reason(sb, exc)) from None
    finally:
        sb.deadline = math.inf
        sb.symtable.clear()
    if sb.error:
        raise ExpressionError(expression, _reason(sb, None))
    return result


def execute(code: str, names: Mapping[str, Any], *, timeout: float,
            limits: Limits = EXPRESSION_LIMITS) -> Any:
    """Run multi-line Python (the `code` node) and return its result.

    The result is the variable `result` when the code sets it, otherwise the value of the
    last line when that is an expression, otherwise None. Raises ExpressionError with the
    line number on failure. Meant to run inside the sandbox worker process."""
    try:
        parsed = _parse(code, MAX_CODE_LENGTH, limits.max_ast_depth)
    except (SyntaxError, ValueError) as exc:
        reason, line = _parse_error(exc)
        raise ExpressionError(code, reason, line) from None
    sb = Sandbox(statements=True, limits=limits)
    sb.reset(names, timeout)
    sb.expr = code
    try:
        value = sb.run(parsed.tree, expr=code, with_raise=True)
        if sb.error:
            raise ExpressionError(code, _reason(sb, None), _error_line(sb))
        body = parsed.tree.body
        if "result" in sb.symtable and "result" not in names:
            value = sb.symtable["result"]
        elif not body or not isinstance(body[-1], ast.Expr):
            value = None
        if not isinstance(value, SCALARS):
            measure(value, limits.max_output)
        return value
    except SandboxLimit as exc:
        raise ExpressionError(code, _limit_reason(exc, timeout), sb.current_line) from None
    except ExpressionError:
        raise
    except Exception as exc:
        raise ExpressionError(code, _reason(sb, exc), _error_line(sb)) from None
    finally:
        sb.deadline = math.inf


def check_code(code: str) -> str | None:
    """A syntax problem in code-node source ("line 3: syntax error: ..."), or None."""
    try:
        _parse(code, MAX_CODE_LENGTH, EXPRESSION_LIMITS.max_ast_depth)
    except (SyntaxError, ValueError) as exc:
        reason, line = _parse_error(exc)
        return f"line {line}: {reason}" if line else reason
    return None


def _limit_reason(exc: SandboxLimit, timeout: float) -> str:
    if exc.reason == "timed out":
        return f"timed out after {timeout:g}s"
    return exc.reason


def _error_line(sb: Sandbox) -> int | None:
    for err in sb.error:
        if getattr(err, "lineno", None):
            return err.lineno
    return sb.current_line


def _reason(sb: Interpreter, exc: BaseException | None) -> str:
    return scrub(_raw_reason(sb, exc))


def _raw_reason(sb: Interpreter, exc: BaseException | None) -> str:
    if sb.error:
        err = sb.error[0]
        kind = getattr(err.exc, "__name__", None) or "Error"
        msg = str(sb.error_msg or err.msg or "").strip()[:500] or (describe(exc) if exc else "")
        return f"{kind}: {msg}" if msg else kind
    if exc is None:
        return "evaluation failed"
    text = describe(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
