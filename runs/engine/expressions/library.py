"""The names an expression may call: a short list of safe builtins, each bounded.

    make_builtins(sandbox)   # {"len": len, "sorted": <bounded sorted>, ...}
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import regex

from .display import describe_object, safe_repr
from .guards import CODE_EXCEPTIONS, SandboxLike
from .limits import SCALARS, check_integral, measure, too_big

MAX_PATTERN = 1_000  # characters of a `matches()` pattern
MAX_MATCH_SECONDS = 2.0  # the most one `matches()` may take (less when the deadline is nearer)


def make_builtins(sb: SandboxLike, *, statements: bool) -> dict[str, Any]:
    """The symbol table every evaluation starts from (plus exception types for the code
    node, whose `try`/`except` names them)."""
    table: dict[str, Any] = {
        "True": True, "False": False, "None": None,
        "abs": abs, "all": all, "any": any, "bool": bool, "dict": dict, "divmod": divmod,
        "enumerate": enumerate, "float": float, "int": int, "len": len, "list": list,
        "reversed": reversed, "set": set, "str": str, "tuple": tuple, "zip": zip,
        "math_floor": math.floor, "math_ceil": math.ceil, "math_sqrt": math.sqrt,
    }
    table.update(_bounded(sb))
    if statements:
        for exc in CODE_EXCEPTIONS:
            table[exc.__name__] = exc
    return table


def _bounded(sb: SandboxLike) -> dict[str, Any]:
    lim = sb.limits

    def _range(*args: int) -> range:
        r = range(*args)
        if len(r) > lim.max_sequence:
            raise ValueError(f"range of {len(r)} items exceeds the limit of {lim.max_sequence}")
        return r

    def _map(func: Any, *iterables: Any) -> Iterator[Any]:
        call = sb.checked_callable(func)
        if call is None:
            raise TypeError("'NoneType' object is not callable")
        for args in zip(*iterables, strict=False):
            yield call(*args)

    def _filter(func: Any, iterable: Any) -> Iterator[Any]:
        call = sb.checked_callable(func) if func is not None else None
        call = call or bool
        for item in iterable:
            sb.tick()
            if call(item):
                yield item

    def _keyed(builtin: Callable[..., Any]) -> Callable[..., Any]:
        def keyed(*args: Any, key: Any = None, **kwargs: Any) -> Any:
            if builtin is sorted and args and not hasattr(args[0], "__len__"):
                args = (sb.materialize(args[0]), *args[1:])  # an iterator: under the cap
            if builtin is sorted and args and len(args[0]) > lim.max_sequence:
                raise too_big("sorted", len(args[0]), lim.max_sequence)
            if key is not None:
                kwargs["key"] = sb.checked_callable(key)
            return builtin(*args, **kwargs)
        return keyed

    def _sum(iterable: Any, start: Any = 0) -> Any:
        if type(start) not in (int, float, complex):
            raise TypeError("sum() adds numbers only; join strings or lists instead")
        return sum(iterable, start)

    def _round(number: Any, ndigits: Any = None) -> Any:
        if isinstance(ndigits, int) and abs(ndigits) > 1000:
            raise ValueError("ndigits must be between -1000 and 1000")
        if ndigits is None:
            check_integral(number, lim.max_int_bits)
        return round(number, ndigits)

    def _isinstance(obj: Any, classes: Any) -> bool:
        return isinstance(obj, classes)

    def _repr(value: Any) -> str:
        if not isinstance(value, SCALARS):
            measure(value, lim.max_string, "string")
        return safe_repr(value)

    def _json_dumps(value: Any, indent: int | None = None) -> str:
        measure(value, lim.max_string, "JSON text")
        text = json.dumps(value, default=describe_object,
                          indent=indent if isinstance(indent, int) and 0 < indent <= 8
                          else None)
        if len(text) > lim.max_string:
            raise too_big("JSON text", len(text), lim.max_string)
        return text

    def _json_loads(text: Any) -> Any:
        if isinstance(text, (str, bytes)) and len(text) > lim.max_json_text:
            raise too_big("JSON text", len(text), lim.max_json_text)
        return json.loads(text)

    def _matches(pattern: Any, text: Any) -> bool:
        # `regex` (not `re`): its matching stops at a timeout, so a backtracking pattern
        # cannot hold the worker past the expression's deadline.
        if not isinstance(pattern, str) or not isinstance(text, str):
            raise TypeError("matches(pattern, text) takes two strings")
        if len(pattern) > MAX_PATTERN:
            raise ValueError(f"the pattern is over {MAX_PATTERN:,} characters")
        left = min(sb.deadline - time.monotonic(), MAX_MATCH_SECONDS)
        try:
            return regex.search(pattern, text, timeout=max(left, 0.001)) is not None
        except regex.error as exc:
            raise ValueError(f"bad pattern: {exc}") from None
        except TimeoutError:
            raise ValueError("the pattern took too long on this text") from None

    table = {
        "filter": _filter, "isinstance": _isinstance, "map": _map, "max": _keyed(max),
        "min": _keyed(min), "range": _range, "repr": _repr, "round": _round,
        "sorted": _keyed(sorted), "sum": _sum, "json_dumps": _json_dumps,
        "json_loads": _json_loads, "matches": _matches,
    }
    for name, value in table.items():
        value.__name__ = value.__qualname__ = name  # messages name what the user called
    return table
