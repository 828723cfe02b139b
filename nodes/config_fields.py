"""What a node config's fields hold, read from their pydantic types: which strings are
expressions, and which values a `{{ }}` template must hand over as text.

    text_paths(cls.Config, rendered)       # where a template's number must become text
    expressions(cls, config)               # every expression and template in a config

One syntax for users: every field takes `{{ }}` templates; an *expression field* (format
"expression": If, Switch cases, Transform, Loop's break_if, retry_if) holds one expression,
written `{{ input.total > 100 }}` or, as saved workflows did before, bare
(`input.total > 100`). `unwrap()` turns either into the expression.
"""

from __future__ import annotations

import ast
import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, Union

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from .base import NodeSettings, NodeType

WHOLE_TEMPLATE = re.compile(r"^\s*\{\{(.+?)\}\}\s*$", re.DOTALL)
TEMPLATE = re.compile(r"\{\{(.+?)\}\}", re.DOTALL)


def unwrap(expression: str) -> str:
    """The expression inside one whole `{{ }}`, or the text itself (a bare expression).

    A Python expression that starts with `{{` is a set holding a set or dict, which can never
    be built (unhashable): unwrapping never changes what a working expression means."""
    whole = WHOLE_TEMPLATE.match(expression)
    if whole and "{{" not in whole.group(1):
        return whole.group(1).strip()
    return expression


# -- types --------------------------------------------------------------------------------

_KINDS: dict[Any, str] = {str: "str", int: "number", float: "number", bool: "bool",
                          dict: "object", list: "list", type(None): "null"}


def _value_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    for cls, kind in _KINDS.items():
        if isinstance(value, cls):
            return kind
    return "other"


def _members(annotation: Any) -> list[Any]:
    """The alternatives of a union (`str | None` -> [str, None]); Annotated unwrapped."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _members(arg)]
    return [annotation]


_ACCEPTED: dict[Any, frozenset[str] | None] = {}


def _accepted_kinds(annotation: Any) -> frozenset[str] | None:
    """The kinds of JSON value a type accepts; None when it accepts anything. Computed once
    per annotation (configs are checked on every node attempt)."""
    try:
        return _ACCEPTED[annotation]
    except KeyError:
        pass
    except TypeError:  # an unhashable annotation: not cached
        return _kinds_of(annotation)
    found = _ACCEPTED[annotation] = _kinds_of(annotation)
    return found


def _kinds_of(annotation: Any) -> frozenset[str] | None:
    kinds: set[str] = set()
    for member in _members(annotation):
        if member is Any:
            return None
        origin = typing.get_origin(member) or member
        if origin is Literal:
            kinds.update(_value_kind(v) for v in typing.get_args(member))
        elif isinstance(origin, type) and issubclass(origin, BaseModel):
            kinds.add("object")
        elif isinstance(origin, type) and issubclass(origin, bool):
            kinds.add("bool")
        elif isinstance(origin, type) and issubclass(origin, (int, float)):
            kinds.add("number")
        elif isinstance(origin, type) and issubclass(origin, str):
            kinds.add("str")
        elif origin in (dict, typing.Mapping) or origin is dict:
            kinds.add("object")
        elif origin in (list, tuple, set, frozenset):
            kinds.add("list")
        elif member is None or member is type(None):
            kinds.add("null")
        else:
            return None
    return frozenset(kinds)


def _wants_text(annotation: Any, value: Any) -> bool:
    """True when `value` does not fit the type but text would (a number in a `str` field)."""
    kinds = _accepted_kinds(annotation)
    if kinds is None or "str" not in kinds:
        return False
    kind = _value_kind(value)
    if kind in kinds:
        return False
    return not (kind == "number" and "number" in kinds)


def _inner(annotation: Any, kind: str) -> list[Any]:
    """The element types of the members of `annotation` that hold a `kind` container."""
    found = []
    for member in _members(annotation):
        origin = typing.get_origin(member)
        args = typing.get_args(member)
        if kind == "object" and origin in (dict, typing.Mapping) and len(args) == 2:
            found.append(args[1])
        elif kind == "list" and origin in (list, tuple, set, frozenset) and args:
            found.append(args[0])
        elif kind == "object" and isinstance(member, type) and issubclass(member, BaseModel):
            found.append(member)
    return found


def text_paths(annotation: Any, value: Any, path: tuple[Any, ...] = ()) -> Iterator[
        tuple[tuple[Any, ...], Any]]:
    """(path, value) of every value inside `value` that its type wants as text."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if not isinstance(value, dict):
            return
        for name, field in annotation.model_fields.items():
            key = field.alias or name
            if key in value:
                yield from text_paths(field.annotation, value[key], (*path, key))
        return
    if _wants_text(annotation, value):
        yield path, value
        return
    if isinstance(value, dict):
        for inner in _inner(annotation, "object"):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                yield from text_paths(inner, value, path)
                return
            for key, item in value.items():
                yield from text_paths(inner, item, (*path, key))
            return
    elif isinstance(value, list):
        for inner in _inner(annotation, "list"):
            for i, item in enumerate(value):
                yield from text_paths(inner, item, (*path, i))
            return


# -- expressions in a config ------------------------------------------------------------------

@dataclass(frozen=True)
class Found:
    """One expression in a config: `path` (e.g. "config.cases[0].expression"), `kind`
    ("expression": the field holds one expression; "template": a `{{ }}` inside text) and
    the expression's source (unwrapped)."""

    path: str
    kind: str
    source: str


def _format(field: FieldInfo) -> str | None:
    extra = field.json_schema_extra
    return extra.get("format") if isinstance(extra, dict) else None  # type: ignore[return-value]


def _join(prefix: str, key: Any) -> str:
    return f"{prefix}[{key}]" if isinstance(key, int) else f"{prefix}.{key}"


def _templates(path: str, value: Any) -> Iterator[Found]:
    if isinstance(value, str):
        for match in TEMPLATE.finditer(value):
            yield Found(path, "template", match.group(1).strip())
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _templates(_join(path, key), item)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _templates(_join(path, i), item)


def _model_expressions(model: type[BaseModel], config: Any, prefix: str) -> Iterator[Found]:
    if not isinstance(config, dict):
        return
    for name, field in model.model_fields.items():
        key = field.alias or name
        if key not in config:
            continue
        value, path, form = config[key], _join(prefix, key), _format(field)
        if form == "expression" and isinstance(value, str):
            yield Found(path, "expression", unwrap(value))
        elif form == "expression-map" and isinstance(value, dict):
            for k, item in value.items():
                if isinstance(item, str):
                    yield Found(_join(path, k), "expression", unwrap(item))
        elif form == "code":  # code is checked by its node (syntax), not as templates
            continue
        else:
            nested = [m for m in _inner(field.annotation, "list") + _inner(field.annotation,
                      "object") if isinstance(m, type) and issubclass(m, BaseModel)]
            if nested and isinstance(value, list):
                for i, item in enumerate(value):
                    yield from _model_expressions(nested[0], item, _join(path, i))
            elif nested and isinstance(value, dict):
                yield from _model_expressions(nested[0], value, path)
            else:
                yield from _templates(path, value)


def expressions(cls: type[NodeType], config: Any, settings: Any = None,
                prefix: str = "config") -> Iterator[Found]:
    """Every expression and `{{ }}` template in a node's config (and settings.retry_if)."""
    yield from _model_expressions(cls.Config, config, prefix)
    if isinstance(settings, dict):
        yield from _model_expressions(NodeSettings, settings,
                                      prefix.rsplit("config", 1)[0] + "settings")


MAX_EXPRESSION_LENGTH = 10_000
MAX_DEPTH = 100  # as the sandbox's EXPRESSION_LIMITS.max_ast_depth


def _depth(tree: ast.AST) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _nested_braces(tree: ast.AST) -> bool:
    """A set holding a set or dict: `{{ a }}` written inside an expression."""
    return any(isinstance(node, ast.Set) and any(
        isinstance(e, (ast.Set, ast.Dict, ast.SetComp, ast.DictComp)) for e in node.elts)
        for node in ast.walk(tree))


def syntax_problem(source: str) -> str | None:
    """Why an expression cannot run (its syntax), or None. What it reads is known only when
    it runs (POST /api/expressions/check evaluates it against sample data)."""
    if not source.strip():
        return "empty expression"
    if len(source) > MAX_EXPRESSION_LENGTH:
        return f"longer than {MAX_EXPRESSION_LENGTH} characters"
    try:
        tree = ast.parse(source.strip())
    except SyntaxError as exc:
        return f"syntax error: {exc.msg}"
    except (RecursionError, MemoryError, ValueError):
        return "syntax error: nested too deeply"
    if _depth(tree) > MAX_DEPTH:
        return f"nested more than {MAX_DEPTH} levels deep"
    if _nested_braces(tree):
        return ("{{ }} inside an expression: put one {{ }} around the whole expression, "
                "e.g. {{ input.a > 1 and input.b }}")
    return None


def expression_problems(cls: type[NodeType], config: Any, settings: Any = None,
                        prefix: str = "config") -> list[tuple[str, str]]:
    """(path, problem) for each expression in a node's config and settings that cannot run."""
    problems = []
    for found in expressions(cls, config, settings, prefix):
        problem = syntax_problem(found.source)
        if problem:
            where = found.source[:60]
            if found.kind == "template" or not where:
                where = "{{ " + where + " }}" if where else "{{ }}"
            problems.append((found.path, f"{where}: {problem}"))
    return problems
