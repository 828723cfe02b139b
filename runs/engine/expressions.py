"""The one sandbox: `{{ }}` templates, transform expressions and the `code` node's Python.

    evaluate("input.name.upper()", {"input": {"name": "ada"}})       -> "ADA"
    render("Hello {{ input.name }}", {"input": {"name": "ada"}})     -> "Hello ada"
    execute("total = sum(input)\\nresult = total * 2", {"input": [1, 2]}, ...)  -> 6

Built on asteval, with its dangerous surface removed rather than trusted:

- Names: an empty symbol table plus a short list of safe builtins (no `open`, `getattr`,
  `eval`, `exec`, `compile`, `type`, `format`, no modules, no import statement).
- Attributes: an allowlist, not asteval's denylist. Dict keys read as attributes
  (`input.user.name`); otherwise only public attributes of plain data types (str, int, list,
  dict, ...) are reachable; anything starting with `_`, `str.format`/`format_map` and `mro`
  never are, and attributes of functions, exceptions, iterators or procedures are not
  available at all. Attributes cannot be assigned or deleted.
- Formatting: f-strings are evaluated with `format(value, spec)` (no field traversal) and
  widths are bounded; `%` formatting has bounded widths and no `*`.
- Bounds: a wall-clock deadline checked at every AST node and at every item a builtin
  iterates for us (`map`, `filter`, sort keys); size guards before every operation that
  allocates in C (repetition, concatenation, `**`, `<<`, `ljust`/`center`/`zfill`, `replace`,
  `join`, `to_bytes`, `str()` of containers, ...); a per-evaluation allocation budget; call
  depth; AST depth; output size. Hitting a bound raises `SandboxLimit`, a BaseException so
  that sandboxed `try`/`except` cannot swallow it, and it surfaces as an `ExpressionError`.

Expressions run in-process (interpreters are reused per thread and parses cached, so an
evaluation costs no set-up); the `code` node runs `execute()` in a worker process with
operating-system limits on top (see `runs.engine.sandbox_process`).
"""

from __future__ import annotations

import ast
import json
import math
import re
import reprlib
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from asteval import Interpreter
from asteval.astutils import Procedure, op2func

TEMPLATE_RE = re.compile(r"\{\{(.+?)\}\}", re.DOTALL)
WHOLE_TEMPLATE_RE = re.compile(r"^\s*\{\{(.+?)\}\}\s*$", re.DOTALL)

DEFAULT_TIMEOUT = 2.0
MAX_EXPRESSION_LENGTH = 20_000
MAX_CODE_LENGTH = 200_000


@dataclass(frozen=True)
class Limits:
    """The bounds one evaluation runs under (sizes in characters, items or bits)."""

    max_string: int = 10_000_000  # characters (or bytes) a single operation may build
    max_sequence: int = 1_000_000  # items a single operation may build
    max_int_bits: int = 1 << 20  # bits of an integer an arithmetic operation may build
    max_format_width: int = 100_000  # width/precision in a format spec
    max_output: int = 32_000_000  # estimated JSON size of the result
    max_memory: int = 256_000_000  # estimated bytes all operations together may allocate
    max_call_depth: int = 60  # nested calls of user-defined functions
    max_ast_depth: int = 100  # nesting of the parsed source
    max_json_text: int = 4_000_000  # characters json_loads accepts


EXPRESSION_LIMITS = Limits()
# Back-compat names (tests and callers read these).
MAX_SEQUENCE = EXPRESSION_LIMITS.max_sequence
MAX_STRING = EXPRESSION_LIMITS.max_string

CONTAINER_ITEM_BYTES = 40  # rough cost of one container slot plus a small object


class ExpressionError(Exception):
    """An expression failed; `str()` gives the expression and the reason."""

    def __init__(self, expression: str, reason: str, lineno: int | None = None):
        where = f"line {lineno}: " if lineno else ""
        super().__init__(f"{where}{reason} (in expression: {expression.strip()[:200]})")
        self.expression = expression
        self.reason = reason
        self.lineno = lineno


class SandboxLimit(BaseException):  # noqa: N818 - a BaseException so sandboxed code can't catch it
    """A bound was hit (time, size, depth). Never catchable from inside the sandbox."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


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


# --- size estimation -------------------------------------------------------------------------

_SCALARS = (str, bytes, int, float, bool, type(None), complex)


def measure(value: Any, limit: int, what: str = "result") -> int:
    """Estimate the serialized size of `value`, raising SandboxLimit once it passes `limit`.

    A shared object is counted each time it appears (serialization repeats it) but sized
    only once, so `[[0] * 10**6] * 10**6` is refused after a handful of steps."""
    return _measure(value, limit, what, {}, 0)


def _measure(item: Any, limit: int, what: str, memo: dict[int, int], depth: int) -> int:
    kind = type(item)
    if kind is str or kind is bytes or kind is bytearray:
        size = len(item) + 2
    elif kind is int:
        size = item.bit_length() // 3 + 2
    elif item is None or kind is bool or kind is float or kind is complex:
        size = 8
    elif isinstance(item, (dict, list, tuple, set, frozenset)):
        known = memo.get(id(item))
        if known is not None:
            return known
        if depth >= 200:
            raise SandboxLimit(f"{what} is nested too deeply")
        size = 2
        items = dict.items(item) if isinstance(item, dict) else item
        for entry in items:
            if isinstance(item, dict):
                key, val = entry
                size += 4 + _measure(key, limit, what, memo, depth + 1)
                entry = val
            else:
                size += 2
            etype = type(entry)
            if etype is int or etype is float or etype is bool or entry is None:
                size += 8
            elif etype is str:
                size += len(entry) + 2
            else:
                size += _measure(entry, limit, what, memo, depth + 1)
            if size > limit:
                break
        memo[id(item)] = size
    else:
        size = 64
    if size > limit:
        raise SandboxLimit(f"{what} too large (over {limit:,} characters)")
    return size


_short = reprlib.Repr()
_short.maxstring = 120
_short.maxother = 120
_short.maxlist = _short.maxtuple = _short.maxdict = _short.maxset = 6
_short.maxlevel = 3


def _describe(exc: BaseException) -> str:
    """A bounded message for an exception (never str() of arbitrary arguments)."""
    if isinstance(exc, SandboxLimit):
        return exc.reason
    args = getattr(exc, "args", ())
    if len(args) == 1 and isinstance(args[0], str):
        text = args[0]
    elif not args:
        text = ""
    else:
        text = ", ".join(_short.repr(a) for a in args[:3])
    if isinstance(exc, KeyError) and args:
        text = _short.repr(args[0])
    return text[:500]


# --- guarded methods of the allowed data types ---------------------------------------------

def _arg(args: tuple, kwargs: dict, index: int, name: str, default: Any = None) -> Any:
    if len(args) > index:
        return args[index]
    return kwargs.get(name, default)


def _too_big(what: str, size: int, limit: int) -> SandboxLimit:
    return SandboxLimit(f"{what} would be too large ({size:,} > {limit:,})")


def _g_width(sb: Sandbox, method: Callable, s: Any, args: tuple, kwargs: dict) -> Any:
    width = _arg(args, kwargs, 0, "width", 0)
    if isinstance(width, int) and width > sb.limits.max_string:
        raise _too_big("padded string", width, sb.limits.max_string)
    return sb.charge(method(*args, **kwargs))


def _g_expandtabs(sb: Sandbox, method: Callable, s: Any, args: tuple, kwargs: dict) -> Any:
    tabsize = _arg(args, kwargs, 0, "tabsize", 8)
    if isinstance(tabsize, int):
        tab = "\t" if isinstance(s, str) else b"\t"
        size = len(s) + s.count(tab) * max(tabsize, 0)
        if size > sb.limits.max_string:
            raise _too_big("string", size, sb.limits.max_string)
    return sb.charge(method(*args, **kwargs))


def _g_replace(sb: Sandbox, method: Callable, s: Any, args: tuple, kwargs: dict) -> Any:
    old, new = _arg(args, kwargs, 0, "old"), _arg(args, kwargs, 1, "new")
    count = _arg(args, kwargs, 2, "count", -1)
    if isinstance(old, (str, bytes)) and isinstance(new, (str, bytes)):
        hits = s.count(old) if old else len(s) + 1
        if isinstance(count, int) and count >= 0:
            hits = min(hits, count)
        size = len(s) + hits * len(new)
        if size > sb.limits.max_string:
            raise _too_big("string", size, sb.limits.max_string)
    return sb.charge(method(*args, **kwargs))


def _g_translate(sb: Sandbox, method: Callable, s: Any, args: tuple, kwargs: dict) -> Any:
    table = _arg(args, kwargs, 0, "table")
    if isinstance(table, dict):
        longest = max((len(v) for v in table.values() if isinstance(v, (str, bytes))), default=1)
        size = len(s) * max(longest, 1)
        if size > sb.limits.max_string:
            raise _too_big("string", size, sb.limits.max_string)
    return sb.charge(method(*args, **kwargs))


def _g_join(sb: Sandbox, method: Callable, s: Any, args: tuple, kwargs: dict) -> Any:
    items = _arg(args, kwargs, 0, "iterable", ())
    if not isinstance(items, (list, tuple)):
        items = sb.materialize(items)
    size = len(s) * max(len(items) - 1, 0)
    for item in items:
        if isinstance(item, (str, bytes)):
            size += len(item)
        if size > sb.limits.max_string:
            raise _too_big("joined string", size, sb.limits.max_string)
    return sb.charge(method(items))


def _g_split(sb: Sandbox, method: Callable, s: Any, args: tuple, kwargs: dict) -> Any:
    sep = _arg(args, kwargs, 0, "sep")
    maxsplit = _arg(args, kwargs, 1, "maxsplit", -1)
    cap = sb.limits.max_sequence
    if not isinstance(maxsplit, int) or maxsplit < 0 or maxsplit > cap:
        maxsplit = cap
    out = method(sep, maxsplit)
    if len(out) > cap:
        raise _too_big("split", len(out), cap)
    return sb.charge(out)


def _g_splitlines(sb: Sandbox, method: Callable, s: Any, args: tuple, kwargs: dict) -> Any:
    nl, cr = ("\n", "\r") if isinstance(s, str) else (b"\n", b"\r")
    lines = s.count(nl) + s.count(cr)
    if lines > sb.limits.max_sequence:
        raise _too_big("splitlines", lines, sb.limits.max_sequence)
    return sb.charge(method(*args, **kwargs))


def _g_to_bytes(sb: Sandbox, method: Callable, s: Any, args: tuple, kwargs: dict) -> Any:
    length = _arg(args, kwargs, 0, "length", 1)
    if isinstance(length, int) and length > sb.limits.max_string:
        raise _too_big("bytes", length, sb.limits.max_string)
    return sb.charge(method(*args, **kwargs))


def _g_extend(sb: Sandbox, method: Callable, s: Any, args: tuple, kwargs: dict) -> Any:
    other = _arg(args, kwargs, 0, "iterable", ())
    if not hasattr(other, "__len__"):
        other = sb.materialize(other)
    size = len(s) + len(other)
    if size > sb.limits.max_sequence:
        raise _too_big("list", size, sb.limits.max_sequence)
    sb.charge_size(len(other) * CONTAINER_ITEM_BYTES)
    return method(other)


def _g_update(sb: Sandbox, method: Callable, s: Any, args: tuple, kwargs: dict) -> Any:
    size = len(s) + len(kwargs) + sum(len(a) for a in args if hasattr(a, "__len__"))
    if size > sb.limits.max_sequence:
        raise _too_big("collection", size, sb.limits.max_sequence)
    return method(*args, **kwargs)


def _g_sort(sb: Sandbox, method: Callable, s: Any, args: tuple, kwargs: dict) -> Any:
    if kwargs.get("key") is not None:
        kwargs = {**kwargs, "key": sb.checked_callable(kwargs["key"])}
    return method(*args, **kwargs)


def _g_fromkeys(sb: Sandbox, method: Callable, s: Any, args: tuple, kwargs: dict) -> Any:
    keys = _arg(args, kwargs, 0, "iterable", ())
    if not hasattr(keys, "__len__"):
        keys = sb.materialize(keys)
    if len(keys) > sb.limits.max_sequence:
        raise _too_big("dict", len(keys), sb.limits.max_sequence)
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


def _check_percent_format(fmt: str | bytes, values: Any, sb: Sandbox) -> None:
    text = fmt.decode("latin-1") if isinstance(fmt, bytes) else fmt
    for match in _PERCENT_SPEC.finditer(text):
        for part in match.groups():
            if part == "*":
                raise SandboxLimit("'*' widths are not supported in % formatting")
            if part and int(part) > sb.limits.max_format_width:
                raise _too_big("format width", int(part), sb.limits.max_format_width)
    if isinstance(values, tuple):
        parts: Iterable[Any] = values
    elif isinstance(values, dict):
        parts = dict.values(values)
    else:
        parts = (values,)
    for value in parts:
        if not isinstance(value, _SCALARS):
            measure(value, sb.limits.max_string, "formatted value")


def _check_format_spec(spec: str, sb: Sandbox) -> None:
    for digits in _DIGITS.findall(spec):
        if len(digits) > 9 or int(digits) > sb.limits.max_format_width:
            raise _too_big("format width", int(digits[:12]), sb.limits.max_format_width)


# --- the interpreter -------------------------------------------------------------------------

_CONTAINERS = (list, tuple, dict, set, frozenset)
_BUILDERS = frozenset({list, tuple, set, frozenset, dict})


class Sandbox(Interpreter):
    """asteval with an allowlist of attributes, guarded builtins, a deadline and budgets."""

    def __init__(self, *, statements: bool = False, limits: Limits = EXPRESSION_LIMITS):
        super().__init__(
            symtable={}, use_numpy=False, minimal=False,
            max_statement_length=MAX_CODE_LENGTH if statements else MAX_EXPRESSION_LENGTH,
        )
        self.limits = limits
        self.statements = statements
        self.deadline = math.inf
        self.budget = limits.max_memory
        self.current_line: int | None = None
        # Never: imports, context managers. Expressions also get no definitions, loops with
        # side effects or exception handling; the code node gets those.
        removed = ["import", "importfrom", "with"]
        if not statements:
            removed += ["functiondef", "lambda", "while", "try", "raise", "delete"]
        for handler in removed:
            self.remove_nodehandler(handler)
        self.builtins = self._make_builtins()

    # -- bounds ----------------------------------------------------------------------------
    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise SandboxLimit("timed out")

    def charge_size(self, size: int) -> None:
        self.budget -= size
        if self.budget < 0:
            raise SandboxLimit(
                f"memory limit exceeded (more than {self.limits.max_memory:,} bytes allocated)"
            )

    def charge(self, value: Any) -> Any:
        kind = type(value)
        if kind is str or kind is bytes:
            self.charge_size(len(value))
        elif kind in _CONTAINERS:
            self.charge_size(len(value) * CONTAINER_ITEM_BYTES)
        return value

    def materialize(self, iterable: Any) -> list:
        """A list of the items of any iterable, stopping once it passes the sequence limit."""
        out = []
        cap = self.limits.max_sequence
        for item in iterable:
            out.append(item)
            if len(out) > cap:
                raise _too_big("sequence", len(out), cap)
            if not len(out) & 0x3FF:
                self.tick()
        self.charge(out)
        return out

    # -- calls -----------------------------------------------------------------------------
    def invoke(self, func: Any, args: list | tuple, kwargs: dict) -> Any:
        """Every call from the sandbox goes through here, whether from the AST or from a
        builtin iterating for us (map, filter, sort keys), so prechecks always apply."""
        self.tick()
        if isinstance(func, type) and func in _BUILDERS and args \
                and hasattr(args[0], "__len__"):
            if len(args[0]) > self.limits.max_sequence:
                raise _too_big(getattr(func, "__name__", "sequence"), len(args[0]),
                               self.limits.max_sequence)
        elif func is str and len(args) == 1 and not isinstance(args[0], _SCALARS):
            measure(args[0], self.limits.max_string, "string")
        if isinstance(func, Procedure):
            # Procedure.__call__ counts its own depth in _calldepth.
            if self._calldepth >= self.limits.max_call_depth:
                raise SandboxLimit(
                    f"recursion deeper than {self.limits.max_call_depth} calls"
                )
            return func(*args, **kwargs)
        out = func(*args, **kwargs)
        # A freshly built object is referenced only by `out` (and getrefcount's argument);
        # an existing one handed back (dict.get, max) costs nothing new.
        if sys.getrefcount(out) <= 2:
            self.charge(out)
        return out

    def checked_callable(self, func: Any) -> Callable:
        if func is None:
            return None  # type: ignore[return-value]
        if not callable(func):
            raise TypeError(f"'{type(func).__name__}' object is not callable")

        def call(*args: Any) -> Any:
            return self.invoke(func, args, {})

        return call

    def on_call(self, node):  # type: ignore[override]
        func = self.run(node.func)
        if not callable(func):
            self.raise_exception(node, exc=TypeError,
                                 msg=f"'{type(func).__name__}' object is not callable")
        args: list[Any] = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                value = self.run(arg.value)
                args.extend(value if isinstance(value, (list, tuple)) else
                            self.materialize(value))
            else:
                args.append(self.run(arg))
        keywords: dict[str, Any] = {}
        for key in node.keywords:
            value = self.run(key.value)
            if key.arg is None:
                if not isinstance(value, dict):
                    self.raise_exception(node, exc=TypeError, msg="** needs a mapping")
                keywords.update(value)
            elif key.arg in keywords:
                self.raise_exception(node, exc=SyntaxError,
                                     msg=f"keyword argument repeated: {key.arg}")
            else:
                keywords[key.arg] = value
        if len(self.error) > 0:
            return None
        try:
            return self.invoke(func, args, keywords)
        except Exception as exc:
            if len(self.error) > 0 and isinstance(func, Procedure):
                raise  # already recorded inside the procedure
            name = getattr(func, "__name__", None) or type(func).__name__
            self.raise_exception(node, exc=_safe_exc_type(exc),
                                 msg=f"{name}(): {_describe(exc)}")

    # -- names and attributes --------------------------------------------------------------
    def on_attribute(self, node):  # type: ignore[override]
        if not isinstance(node.ctx, ast.Load):
            self.raise_exception(node, exc=AttributeError,
                                 msg="attributes cannot be assigned or deleted")
        obj = self.run(node.value)
        try:
            return self.get_attribute(obj, node.attr)
        except AttributeError as exc:
            self.raise_exception(node, exc=AttributeError, msg=_describe(exc))

    def get_attribute(self, obj: Any, attr: str) -> Any:
        if isinstance(obj, dict) and dict.__contains__(obj, attr):
            return wrap(dict.__getitem__(obj, attr))  # data, whatever its key looks like
        if attr.startswith("_") or attr in DENIED_ATTRIBUTES:
            raise AttributeError(f"access to attribute {attr!r} is not allowed")
        if isinstance(obj, ReadOnlyDict):
            if attr in READ_ONLY_DICT_METHODS:
                return getattr(obj, attr)
            raise AttributeError(f"no key {attr!r}")
        if isinstance(obj, type) and obj in SAFE_TYPES:
            owner, bound = SAFE_TYPES[obj], False
        else:
            owner = SAFE_TYPES.get(type(obj))
            bound = True
            if owner is None:
                raise AttributeError(
                    f"attributes of {type(obj).__name__} values are not available"
                )
        try:
            value = getattr(obj, attr)
        except AttributeError:
            if bound and owner is dict:
                raise AttributeError(f"no key {attr!r}") from None
            raise AttributeError(f"{owner.__name__} has no attribute {attr!r}") from None
        guard = GUARDED_METHODS.get(owner, {}).get(attr)
        if guard is None:
            return value
        if bound:
            def call_bound(*args: Any, **kwargs: Any) -> Any:
                return guard(self, value, obj, args, kwargs)
            return call_bound

        def call_unbound(target: Any, *args: Any, **kwargs: Any) -> Any:
            if attr == "fromkeys":
                return guard(self, value, None, (target, *args), kwargs)
            if not isinstance(target, owner):
                raise TypeError(f"{owner.__name__}.{attr} needs a {owner.__name__}")
            return guard(self, getattr(target, attr), target, args, kwargs)
        return call_unbound

    def node_assign(self, node, val):  # type: ignore[override]
        if isinstance(node, ast.Attribute):
            self.raise_exception(node, exc=AttributeError,
                                 msg="attributes cannot be assigned")
        return super().node_assign(node, val)

    def on_delete(self, node):  # type: ignore[override]
        for target in node.targets:
            if isinstance(target, ast.Name):
                self.symtable.pop(target.id, None)
            elif isinstance(target, ast.Subscript):
                container = self.run(target.value)
                del container[self.run(target.slice)]
            else:
                self.raise_exception(node, exc=SyntaxError,
                                     msg="only names and items can be deleted")

    def _comp_save_syms(self, node):  # type: ignore[override]
        # asteval deep-copies shadowed names; a reference is enough (the comprehension
        # rebinds the name, it does not mutate the value) and deepcopy of big data is a DoS.
        saved, deleted = {}, set()
        for gen in node.generators:
            for name in self._extract_names_from_target(gen.target):
                if name in self.symtable:
                    saved[name] = self.symtable[name]
                else:
                    deleted.add(name)
        return saved, deleted

    # -- operators -------------------------------------------------------------------------
    def on_binop(self, node):  # type: ignore[override]
        left = self.run(node.left)
        right = self.run(node.right)
        op = type(node.op)
        lim = self.limits
        if op is ast.Mult:
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, bytes, list, tuple)) and isinstance(n, int):
                    cap = lim.max_string if isinstance(seq, (str, bytes)) else lim.max_sequence
                    if len(seq) * n > cap:
                        raise _too_big("result of repetition", len(seq) * n, cap)
            if isinstance(left, int) and isinstance(right, int):
                bits = left.bit_length() + right.bit_length()
                if bits > lim.max_int_bits:
                    raise _too_big("integer (bits)", bits, lim.max_int_bits)
            return self.charge(left * right)
        if op is ast.Add:
            if isinstance(left, (str, bytes, list, tuple)) and hasattr(right, "__len__"):
                cap = lim.max_string if isinstance(left, (str, bytes)) else lim.max_sequence
                if len(left) + len(right) > cap:
                    raise _too_big("result of concatenation", len(left) + len(right), cap)
            return self.charge(left + right)
        if op is ast.Pow:
            if isinstance(left, int) and isinstance(right, int) and right > 1 \
                    and abs(left) > 1:
                bits = left.bit_length() * right
                if bits > lim.max_int_bits:
                    raise _too_big("integer power (bits)", bits, lim.max_int_bits)
            elif isinstance(right, (int, float)) and abs(right) > 10_000 \
                    and isinstance(left, complex):
                raise SandboxLimit("exponent too large")
            return left**right
        if op is ast.LShift:
            if isinstance(left, int) and isinstance(right, int) and left:
                bits = left.bit_length() + right
                if bits > lim.max_int_bits:
                    raise _too_big("integer shift (bits)", bits, lim.max_int_bits)
            return left << right
        if op is ast.Mod and isinstance(left, (str, bytes)):
            _check_percent_format(left, right, self)
            return self.charge(left % right)
        if op is ast.BitOr and isinstance(left, (set, frozenset, dict)) \
                and hasattr(right, "__len__"):
            if len(left) + len(right) > lim.max_sequence:
                raise _too_big("union", len(left) + len(right), lim.max_sequence)
        return op2func(node.op)(left, right)

    # -- strings ---------------------------------------------------------------------------
    def on_formattedvalue(self, node):  # type: ignore[override]
        value = self.run(node.value)
        if not isinstance(value, _SCALARS):
            measure(value, self.limits.max_string, "formatted value")
        if node.conversion == 114:  # !r
            value = repr(value)
        elif node.conversion == 97:  # !a
            value = ascii(value)
        elif node.conversion == 115:  # !s
            value = str(value)
        spec = ""
        if node.format_spec is not None:
            spec = self.run(node.format_spec)
            if not isinstance(spec, str):
                spec = ""
            _check_format_spec(spec, self)
        # format(), not str.format: a spec cannot name fields or traverse attributes.
        return format(value, spec)

    def on_joinedstr(self, node):  # type: ignore[override]
        parts = [self.run(part) for part in node.values]
        size = sum(len(p) for p in parts if isinstance(p, str))
        if size > self.limits.max_string:
            raise _too_big("f-string", size, self.limits.max_string)
        return self.charge("".join(p for p in parts if isinstance(p, str)))

    # -- comprehensions: charge what they build ----------------------------------------------
    def on_listcomp(self, node):  # type: ignore[override]
        return self.charge(super().on_listcomp(node))

    def on_dictcomp(self, node):  # type: ignore[override]
        return self.charge(super().on_dictcomp(node))

    def do_generator(self, gnodes, node, out):  # type: ignore[override]
        if len(out) > self.limits.max_sequence:
            raise _too_big("comprehension", len(out), self.limits.max_sequence)
        return super().do_generator(gnodes, node, out)

    # -- exceptions (code node) ------------------------------------------------------------
    def on_try(self, node):  # type: ignore[override]
        # asteval's version binds the original exception (which may carry internal objects,
        # e.g. AttributeError.obj) and resolves handler names in real builtins; ours binds a
        # fresh exception with a bounded message and resolves handlers in the symbol table.
        failed = False
        for stmt in node.body:
            self.run(stmt, with_raise=False)
            if self.error:
                failed = True
                err = self.error[-1]
                exc_type = _safe_exc_type_from(err.exc)
                message = str(err.msg)[:500]
                errors, error_msg = self.error, self.error_msg
                for handler in node.handlers:
                    self.error, self.error_msg = [], None  # so the handler type evaluates
                    wanted = self.run(handler.type) if handler.type is not None else Exception
                    if self.error:  # the handler's type expression itself failed
                        return
                    self.error, self.error_msg = errors, error_msg
                    if _handles(wanted, exc_type):
                        self.error = []
                        self.error_msg = None
                        self._interrupt = None
                        if handler.name is not None:
                            self.symtable[handler.name] = exc_type(message)
                        for line in handler.body:
                            self.run(line)
                        break
                break
        if not failed:
            for stmt in node.orelse:
                self.run(stmt)
        for stmt in node.finalbody:
            self.run(stmt)

    # -- the main loop ---------------------------------------------------------------------
    def run(self, node, expr=None, lineno=None, with_raise=True):  # type: ignore[override]
        if time.monotonic() > self.deadline:
            raise SandboxLimit("timed out")
        if isinstance(node, str):
            raise SandboxLimit("evaluating text is not allowed")
        if self.error or node is None:
            return None
        if self.retval is not None:
            return self.retval
        if isinstance(self._interrupt, (ast.Break, ast.Continue)):
            return self._interrupt
        if lineno is not None:
            self.lineno = lineno
        if expr is not None:
            self.expr = expr
            self.code_text.append(expr)
        line = getattr(node, "lineno", None)
        if line is not None:
            self.current_line = line
        handler = self.node_handlers.get(node.__class__.__name__.lower())
        if handler is None:
            handler = self.unimplemented
        try:
            ret = handler(node)
            if isinstance(ret, enumerate):
                ret = list(ret)
            return ret
        except Exception as exc:
            if with_raise:
                if self.error:  # already recorded deeper down: keep the first reason
                    self.raise_exception(node, exc=_safe_exc_type(exc),
                                         msg=self.error_msg or _describe(exc))
                self.raise_exception(node, exc=_safe_exc_type(exc), msg=_describe(exc)
                                     or type(exc).__name__)
            elif not self.error:  # record it for `try` without raising
                try:
                    self.raise_exception(node, exc=_safe_exc_type(exc),
                                         msg=_describe(exc) or type(exc).__name__)
                except Exception:  # noqa: S110 - raise_exception always raises; recorded
                    pass
        return None

    # -- builtins --------------------------------------------------------------------------
    def _make_builtins(self) -> dict[str, Any]:
        sb = self
        lim = self.limits

        def _range(*args: int) -> range:
            r = range(*args)
            if len(r) > lim.max_sequence:
                raise ValueError(f"range of {len(r)} items exceeds the limit of {lim.max_sequence}")
            return r

        def _map(func: Any, *iterables: Any) -> Any:
            call = sb.checked_callable(func)
            for args in zip(*iterables, strict=False):
                yield call(*args)

        def _filter(func: Any, iterable: Any) -> Any:
            call = sb.checked_callable(func) if func is not None else bool
            for item in iterable:
                sb.tick()
                if call(item):
                    yield item

        def _keyed(builtin: Callable) -> Callable:
            def keyed(*args: Any, key: Any = None, **kwargs: Any) -> Any:
                if builtin is sorted and args and hasattr(args[0], "__len__") \
                        and len(args[0]) > lim.max_sequence:
                    raise _too_big("sorted", len(args[0]), lim.max_sequence)
                if key is not None:
                    kwargs["key"] = sb.checked_callable(key)
                return builtin(*args, **kwargs)
            keyed.__name__ = builtin.__name__
            return keyed

        def _sum(iterable: Any, start: Any = 0) -> Any:
            if type(start) not in (int, float, complex):
                raise TypeError("sum() adds numbers only; join strings or lists instead")
            return sum(iterable, start)

        def _round(number: Any, ndigits: Any = None) -> Any:
            if isinstance(ndigits, int) and abs(ndigits) > 1000:
                raise ValueError("ndigits must be between -1000 and 1000")
            return round(number, ndigits)

        def _isinstance(obj: Any, classes: Any) -> bool:
            return isinstance(obj, classes)

        def _json_dumps(value: Any, indent: int | None = None) -> str:
            measure(value, lim.max_string, "JSON text")
            text = json.dumps(value, default=lambda o: f"<{type(o).__name__}>",
                              indent=indent if isinstance(indent, int) and 0 < indent <= 8
                              else None)
            if len(text) > lim.max_string:
                raise _too_big("JSON text", len(text), lim.max_string)
            return text

        def _json_loads(text: Any) -> Any:
            if isinstance(text, (str, bytes)) and len(text) > lim.max_json_text:
                raise _too_big("JSON text", len(text), lim.max_json_text)
            return json.loads(text)

        table: dict[str, Any] = {
            "True": True, "False": False, "None": None,
            "abs": abs, "all": all, "any": any, "bool": bool, "dict": dict, "divmod": divmod,
            "enumerate": enumerate, "filter": _filter, "float": float, "int": int,
            "isinstance": _isinstance, "len": len, "list": list, "map": _map,
            "max": _keyed(max), "min": _keyed(min), "range": _range, "reversed": reversed,
            "round": _round, "set": set, "sorted": _keyed(sorted), "str": str, "sum": _sum,
            "tuple": tuple, "zip": zip,
            "json_dumps": _json_dumps, "json_loads": _json_loads,
            "math_floor": math.floor, "math_ceil": math.ceil, "math_sqrt": math.sqrt,
        }
        for name, value in table.items():
            if getattr(value, "__module__", None) == __name__:
                value.__name__ = name  # error messages name what the user called
        if self.statements:
            for exc in _CODE_EXCEPTIONS:
                table[exc.__name__] = exc
        return table

    def reset(self, names: Mapping[str, Any], timeout: float) -> None:
        symtable = self.symtable
        symtable.clear()
        symtable.update(self.builtins)
        for key, value in names.items():
            symtable[key] = wrap(value)
        self.error = []
        self.error_msg = None
        self.code_text = []
        self.retval = None
        self._interrupt = None
        self._calldepth = 0
        self.current_line = None
        self.budget = self.limits.max_memory
        self.deadline = time.monotonic() + timeout


_CODE_EXCEPTIONS = (
    Exception, ArithmeticError, AssertionError, AttributeError, IndexError, KeyError,
    LookupError, NameError, RuntimeError, TypeError, ValueError, ZeroDivisionError,
    OverflowError, NotImplementedError,
)
_SAFE_EXCEPTIONS = frozenset(_CODE_EXCEPTIONS) | {SyntaxError, RecursionError, MemoryError,
                                                  UnicodeError, UnicodeDecodeError,
                                                  UnicodeEncodeError, StopIteration}


def _safe_exc_type(exc: BaseException) -> type[Exception]:
    return _safe_exc_type_from(type(exc))


def _safe_exc_type_from(kind: Any) -> type[Exception]:
    if isinstance(kind, type):
        for base in kind.__mro__:
            if base in _SAFE_EXCEPTIONS:
                return base  # type: ignore[return-value]
    return RuntimeError


def _handles(wanted: Any, kind: type) -> bool:
    if isinstance(wanted, tuple):
        return any(_handles(w, kind) for w in wanted)
    return isinstance(wanted, type) and issubclass(wanted, BaseException) \
        and issubclass(kind, wanted)


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
    """Evaluate one expression against `names`; raise ExpressionError on any failure."""
    try:
        parsed = _parse(expression)
    except (SyntaxError, ValueError) as exc:
        raise ExpressionError(expression, _parse_error(exc)[0]) from None
    sb = _sandbox()
    sb.reset(names, timeout)
    sb.expr = expression
    try:
        result = sb.run(parsed.tree, expr=expression, with_raise=True)
        if not sb.error and not parsed.lookup_only and not isinstance(result, _SCALARS):
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
        if not isinstance(value, _SCALARS):
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
    if sb.error:
        err = sb.error[0]
        kind = getattr(err.exc, "__name__", None) or "Error"
        msg = str(sb.error_msg or err.msg or "").strip()[:500] or (_describe(exc) if exc else "")
        return f"{kind}: {msg}" if msg else kind
    if exc is None:
        return "evaluation failed"
    text = _describe(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


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
    parts: list[str] = []
    size = 0
    pos = 0
    for match in TEMPLATE_RE.finditer(template):
        parts.append(template[pos:match.start()])
        text = _stringify(evaluate(match.group(1), names, timeout=timeout))
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


def code_limits(memory_bytes: int) -> Limits:
    """Limits for the code node: the worker's address-space limit backs them, so they are
    scaled from it."""
    return replace(EXPRESSION_LIMITS, max_memory=memory_bytes, max_call_depth=200)
