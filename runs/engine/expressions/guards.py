"""What the sandbox lets an expression reach: plain data types' public attributes (an
allowlist), guarded versions of the methods that allocate in C, and safe exception types.

    get_attribute in the interpreter consults SAFE_TYPES, DENIED_ATTRIBUTES and
    GUARDED_METHODS; `wrap` is how a top-level name enters the sandbox.
"""

from __future__ import annotations

import binascii
import decimal
import json
import re
import statistics
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from .display import ShortRepr
from .limits import CONTAINER_ITEM_BYTES, SCALARS, Limits, SandboxLimit, measure, too_big


class SandboxLike(Protocol):
    """What a guard needs of the interpreter."""

    limits: Limits
    deadline: float  # time.monotonic() past which the evaluation stops

    def charge(self, value: Any) -> Any: ...
    def charge_size(self, size: int) -> None: ...
    def materialize(self, iterable: Any) -> list[Any]: ...
    def checked_callable(self, func: Any) -> Callable[..., Any] | None: ...
    def tick(self) -> None: ...


class ReadOnlyDict(dict):
    """A dict the engine hands to expressions without a copy (e.g. `nodes`): its keys read as
    attributes and only its non-mutating methods are available."""


READ_ONLY_DICT_METHODS = frozenset({"keys", "values", "items", "get"})


def wrap(value: Any) -> Any:
    """A top-level name as the sandbox sees it: dicts are shallow-copied so that assigning a
    key inside an expression does not change the engine's data. (Dict keys read as
    attributes through `Sandbox.get_attribute`, so no wrapper class is needed.)"""
    if type(value) is dict:
        return dict(value)
    return value


_short = ShortRepr()
_short.maxstring = 120
_short.maxother = 120
_short.maxlist = _short.maxtuple = _short.maxdict = _short.maxset = 6
_short.maxlevel = 3


def describe(exc: BaseException) -> str:
    """A bounded, address-free message for an exception (never str() of arbitrary
    arguments)."""
    if isinstance(exc, SandboxLimit):
        return exc.reason
    args: tuple[Any, ...] = getattr(exc, "args", ())
    if len(args) == 1 and isinstance(args[0], str):
        text = args[0]
    elif not args:
        text = ""
    else:
        text = ", ".join(_short.repr(a) for a in args[:3])
    if isinstance(exc, KeyError) and args:
        text = _short.repr(args[0])
    return text[:500]


# --- exceptions the sandbox shows (and the code node may catch) -------------------------------

CODE_EXCEPTIONS = (
    Exception, ArithmeticError, AssertionError, AttributeError, IndexError, KeyError,
    LookupError, NameError, RuntimeError, TypeError, ValueError, ZeroDivisionError,
    OverflowError, NotImplementedError,
)
# ... plus the exceptions of the importable modules (`modules`), kept as they are so that
# `except json.JSONDecodeError` catches them.
_MODULE_EXCEPTIONS = {json.JSONDecodeError, re.error, statistics.StatisticsError,
                      binascii.Error, ImportError, decimal.DecimalException,
                      decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow,
                      decimal.Underflow, decimal.Inexact, decimal.Rounded, decimal.Subnormal,
                      decimal.Clamped, decimal.FloatOperation}
_SAFE_EXCEPTIONS = frozenset(CODE_EXCEPTIONS) | {SyntaxError, RecursionError, MemoryError,
                                                 UnicodeError, UnicodeDecodeError,
                                                 UnicodeEncodeError, StopIteration} \
    | _MODULE_EXCEPTIONS


def make_exception(kind: type[Exception], message: str) -> Exception:
    """An instance of `kind` for `except ... as e` (or of its nearest base that takes one
    message)."""
    for base in kind.__mro__:
        try:
            return _ONE_ARG.get(base, base)(message)
        except TypeError:
            continue
    return RuntimeError(message)


def safe_exc_type(exc: BaseException) -> type[Exception]:
    return safe_exc_type_from(type(exc))


class _JSONDecodeError(json.JSONDecodeError):
    """json.JSONDecodeError made from a message alone (asteval builds errors that way)."""

    def __init__(self, msg: str, doc: str = "", pos: int = 0):
        super().__init__(msg, doc, pos)
        self.args = (msg,)

    def __str__(self) -> str:
        return str(self.args[0])


_JSONDecodeError.__name__ = _JSONDecodeError.__qualname__ = "JSONDecodeError"
_ONE_ARG: dict[type, type[Exception]] = {json.JSONDecodeError: _JSONDecodeError}


def safe_exc_type_from(kind: Any) -> type[Exception]:
    if isinstance(kind, type):
        for base in kind.__mro__:
            if base in _SAFE_EXCEPTIONS:
                return _ONE_ARG.get(base, base)
    return RuntimeError


def handles(wanted: Any, kind: type) -> bool:
    if isinstance(wanted, tuple):
        return any(handles(w, kind) for w in wanted)
    return isinstance(wanted, type) and issubclass(wanted, BaseException) \
        and issubclass(kind, wanted)


# --- guarded methods of the allowed data types ---------------------------------------------

def _arg(args: tuple, kwargs: dict, index: int, name: str, default: Any = None) -> Any:
    if len(args) > index:
        return args[index]
    return kwargs.get(name, default)


def _g_width(sb: SandboxLike, method: Callable, s: Any, args: tuple, kwargs: dict) -> Any:
    width = _arg(args, kwargs, 0, "width", 0)
    if isinstance(width, int) and width > sb.limits.max_string:
        raise too_big("padded string", width, sb.limits.max_string)
    return sb.charge(method(*args, **kwargs))


def _g_expandtabs(sb: SandboxLike, method: Callable, s: Any, args: tuple, kwargs: dict) -> Any:
    tabsize = _arg(args, kwargs, 0, "tabsize", 8)
    if isinstance(tabsize, int):
        tab = "\t" if isinstance(s, str) else b"\t"
        size = len(s) + s.count(tab) * max(tabsize, 0)
        if size > sb.limits.max_string:
            raise too_big("string", size, sb.limits.max_string)
    return sb.charge(method(*args, **kwargs))


def _g_replace(sb: SandboxLike, method: Callable, s: Any, args: tuple, kwargs: dict) -> Any:
    old, new = _arg(args, kwargs, 0, "old"), _arg(args, kwargs, 1, "new")
    count = _arg(args, kwargs, 2, "count", -1)
    if isinstance(old, (str, bytes)) and isinstance(new, (str, bytes)):
        hits = s.count(old) if old else len(s) + 1
        if isinstance(count, int) and count >= 0:
            hits = min(hits, count)
        size = len(s) + hits * len(new)
        if size > sb.limits.max_string:
            raise too_big("string", size, sb.limits.max_string)
    return sb.charge(method(*args, **kwargs))


def _g_translate(sb: SandboxLike, method: Callable, s: Any, args: tuple, kwargs: dict) -> Any:
    table = _arg(args, kwargs, 0, "table")
    if isinstance(table, dict):
        longest = max((len(v) for v in table.values() if isinstance(v, (str, bytes))), default=1)
        size = len(s) * max(longest, 1)
        if size > sb.limits.max_string:
            raise too_big("string", size, sb.limits.max_string)
    return sb.charge(method(*args, **kwargs))


def _g_join(sb: SandboxLike, method: Callable, s: Any, args: tuple, kwargs: dict) -> Any:
    items = _arg(args, kwargs, 0, "iterable", ())
    if not isinstance(items, (list, tuple)):
        items = sb.materialize(items)
    size = len(s) * max(len(items) - 1, 0)
    for item in items:
        if isinstance(item, (str, bytes)):
            size += len(item)
        if size > sb.limits.max_string:
            raise too_big("joined string", size, sb.limits.max_string)
    return sb.charge(method(items))


def _g_split(sb: SandboxLike, method: Callable, s: Any, args: tuple, kwargs: dict) -> Any:
    sep = _arg(args, kwargs, 0, "sep")
    maxsplit = _arg(args, kwargs, 1, "maxsplit", -1)
    cap = sb.limits.max_sequence
    if not isinstance(maxsplit, int) or maxsplit < 0 or maxsplit > cap:
        maxsplit = cap
    out = method(sep, maxsplit)
    if len(out) > cap:
        raise too_big("split", len(out), cap)
    return sb.charge(out)


def _g_splitlines(sb: SandboxLike, method: Callable, s: Any, args: tuple, kwargs: dict) -> Any:
    nl, cr = ("\n", "\r") if isinstance(s, str) else (b"\n", b"\r")
    lines = s.count(nl) + s.count(cr)
    if lines > sb.limits.max_sequence:
        raise too_big("splitlines", lines, sb.limits.max_sequence)
    return sb.charge(method(*args, **kwargs))


def _g_to_bytes(sb: SandboxLike, method: Callable, s: Any, args: tuple, kwargs: dict) -> Any:
    length = _arg(args, kwargs, 0, "length", 1)
    if isinstance(length, int) and length > sb.limits.max_string:
        raise too_big("bytes", length, sb.limits.max_string)
    return sb.charge(method(*args, **kwargs))


def _g_extend(sb: SandboxLike, method: Callable, s: Any, args: tuple, kwargs: dict) -> Any:
    other = _arg(args, kwargs, 0, "iterable", ())
    if not hasattr(other, "__len__"):
        other = sb.materialize(other)
    size = len(s) + len(other)
    if size > sb.limits.max_sequence:
        raise too_big("list", size, sb.limits.max_sequence)
    sb.charge_size(len(other) * CONTAINER_ITEM_BYTES)
    return method(other)


def _g_update(sb: SandboxLike, method: Callable, s: Any, args: tuple, kwargs: dict) -> Any:
    size = len(s) + len(kwargs) + sum(len(a) for a in args if hasattr(a, "__len__"))
    if size > sb.limits.max_sequence:
        raise too_big("collection", size, sb.limits.max_sequence)
    return method(*args, **kwargs)


def _g_sort(sb: SandboxLike, method: Callable, s: Any, args: tuple, kwargs: dict) -> Any:
    if kwargs.get("key") is not None:
        kwargs = {**kwargs, "key": sb.checked_callable(kwargs["key"])}
    return method(*args, **kwargs)


def _g_fromkeys(sb: SandboxLike, method: Callable, s: Any, args: tuple, kwargs: dict) -> Any:
    keys = _arg(args, kwargs, 0, "iterable", ())
    if not hasattr(keys, "__len__"):
        keys = sb.materialize(keys)
    if len(keys) > sb.limits.max_sequence:
        raise too_big("dict", len(keys), sb.limits.max_sequence)
    return sb.charge(method(keys, *args[1:]))


_STRINGY = {
    "ljust": _g_width, "rjust": _g_width, "center": _g_width, "zfill": _g_width,
    "expandtabs": _g_expandtabs, "replace": _g_replace, "translate": _g_translate,
    "join": _g_join, "split": _g_split, "rsplit": _g_split, "splitlines": _g_splitlines,
}
GUARDED_METHODS: dict[type, dict[str, Callable]] = {
    str: _STRINGY,
    bytes: _STRINGY,
    int: {"to_bytes": _g_to_bytes},
    list: {"extend": _g_extend, "sort": _g_sort},
    dict: {"update": _g_update, "fromkeys": _g_fromkeys},
    set: {"update": _g_update, "union": _g_update, "symmetric_difference_update": _g_update},
}

# Plain data types whose public attributes an expression may read.
SAFE_TYPES: dict[type, type] = {
    str: str, bytes: bytes, int: int, bool: int, float: float, complex: complex,
    list: list, tuple: tuple, dict: dict, set: set, frozenset: frozenset,
    range: range, slice: slice, type(None): type(None),
}
# Never reachable, whoever asks: format-string traversal, MRO, frames and code of any kind.
DENIED_ATTRIBUTES = frozenset({
    "format", "format_map", "mro", "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame",
    "cr_code", "ag_frame", "ag_code", "f_back", "f_globals", "f_locals", "f_builtins",
    "f_code", "tb_frame", "tb_next", "func_globals", "func_code", "func_closure",
    "im_class", "im_func", "im_self", "obj",
})

# --- % formatting ----------------------------------------------------------------------------

_PERCENT_SPEC = re.compile(
    r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]"
)
_DIGITS = re.compile(r"\d+")


def check_percent_format(fmt: str | bytes, values: Any, sb: SandboxLike) -> None:
    text = fmt.decode("latin-1") if isinstance(fmt, bytes) else fmt
    for match in _PERCENT_SPEC.finditer(text):
        for part in match.groups():
            if part == "*":
                raise SandboxLimit("'*' widths are not supported in % formatting")
            if part and int(part) > sb.limits.max_format_width:
                raise too_big("format width", int(part), sb.limits.max_format_width)
    if isinstance(values, tuple):
        parts: Iterable[Any] = values
    elif isinstance(values, dict):
        parts = dict.values(values)
    else:
        parts = (values,)
    for value in parts:
        if not isinstance(value, SCALARS):
            measure(value, sb.limits.max_string, "formatted value")


def check_format_spec(spec: str, sb: SandboxLike) -> None:
    for digits in _DIGITS.findall(spec):
        if len(digits) > 9 or int(digits) > sb.limits.max_format_width:
            raise too_big("format width", int(digits[:12]), sb.limits.max_format_width)


