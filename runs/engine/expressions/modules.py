"""The standard modules the `code` node may import, as vetted views (never the real module).

    import json, re                      # binds ModuleView objects
    from collections import Counter      # binds the vetted member

Each module is a `ModuleView` holding an explicit list of members, so nothing else of the
real module is reachable (`json.decoder`, `re._compiler`, `statistics.sys`, `__loader__`,
`__spec__` do not exist here). Members that could allocate without bound in C take guards
(`math.factorial`, `random.randbytes`, `hashlib.pbkdf2_hmac`, `decimal.Context(prec=...)`);
iterators from `itertools` check the deadline while C code consumes them; callables handed to
a module (sort keys, `re.sub` replacements, `json.loads` hooks) run under the sandbox's checks.
The types these modules return are listed in MODULE_TYPES: their public attributes are
readable, as for plain data (see `guards.SAFE_TYPES`).
"""

from __future__ import annotations

import base64
import collections
import datetime
import decimal
import hashlib
import heapq  # noqa: F401  (imported lazily by Counter.most_common; the worker cannot later)
import itertools
import json
import math
import random
import re
import statistics
import string
import textwrap
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from .asteval_import import Procedure
from .guards import SandboxLike, _arg
from .limits import SandboxLimit, check_integral, too_big

ALLOWED_MODULES = (
    "base64", "collections", "datetime", "decimal", "hashlib", "itertools", "json", "math",
    "random", "re", "statistics", "string", "textwrap", "urllib", "urllib.parse", "uuid",
)


class ModuleView:
    """A module as the sandbox sees it: only `members`, read as attributes."""

    __slots__ = ("members", "name")

    def __init__(self, name: str, members: dict[str, Any]):
        self.name = name
        self.members = members

    def member(self, attr: str) -> Any:
        try:
            return self.members[attr]
        except KeyError:
            raise AttributeError(f"module {self.name!r} has no attribute {attr!r} "
                                 f"(or it is not available in the sandbox)") from None

    def __repr__(self) -> str:
        return f"<module {self.name!r}>"


class CallableView(ModuleView):
    """A callable with vetted attributes of its own (`itertools.chain.from_iterable`)."""

    __slots__ = ("func",)

    def __init__(self, name: str, func: Callable[..., Any], members: dict[str, Any]):
        super().__init__(name, members)
        self.func = func

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<function {self.name}>"


# --- types whose public attributes the code may read -----------------------------------------

_HASH_TYPES = {type(hashlib.new(name)) for name in ("sha256", "blake2b", "sha3_256", "md5")}
_SHAKE_TYPES = {type(hashlib.shake_128()), type(hashlib.shake_256())}

MODULE_TYPES: dict[type, type] = {
    datetime.date: datetime.date, datetime.datetime: datetime.datetime,
    datetime.time: datetime.time, datetime.timedelta: datetime.timedelta,
    datetime.timezone: datetime.timezone,
    decimal.Decimal: decimal.Decimal, decimal.Context: decimal.Context,
    re.Pattern: re.Pattern, re.Match: re.Match,
    collections.Counter: dict, collections.OrderedDict: dict, collections.defaultdict: dict,
    collections.deque: collections.deque, collections.ChainMap: collections.ChainMap,
    uuid.UUID: uuid.UUID, random.Random: random.Random,
    statistics.NormalDist: statistics.NormalDist, string.Template: string.Template,
    urllib.parse.ParseResult: tuple, urllib.parse.SplitResult: tuple,
    urllib.parse.DefragResult: tuple, urllib.parse.ParseResultBytes: tuple,
    urllib.parse.SplitResultBytes: tuple, urllib.parse.DefragResultBytes: tuple,
    statistics.LinearRegression: tuple,
    **{kind: kind for kind in _HASH_TYPES | _SHAKE_TYPES},
}

# --- guards ------------------------------------------------------------------------------------

def _bits_check(sb: SandboxLike, bits: float, what: str) -> None:
    if bits > sb.limits.max_int_bits:
        raise too_big(f"{what} (bits)", int(bits), sb.limits.max_int_bits)


def _g_length(index: int, name: str, what: str, per_item: int = 1) -> Callable[..., Any]:
    """A guard refusing a size argument (`n`, `k`, `length`) past the string limit."""
    def guard(sb: SandboxLike, method: Callable, obj: Any, args: tuple, kwargs: dict) -> Any:
        size = _arg(args, kwargs, index, name, 0)
        if isinstance(size, int) and size * per_item > sb.limits.max_string:
            raise too_big(what, size, sb.limits.max_string)
        return sb.charge(method(*args, **kwargs))
    return guard


def _g_getrandbits(sb: SandboxLike, method: Callable, obj: Any, args: tuple,
                   kwargs: dict) -> Any:
    bits = _arg(args, kwargs, 0, "k", 0)
    if isinstance(bits, int):
        _bits_check(sb, bits, "random integer")
    return method(*args, **kwargs)


def _g_choices(sb: SandboxLike, method: Callable, obj: Any, args: tuple, kwargs: dict) -> Any:
    count = kwargs.get("k", 1)
    if isinstance(count, int) and count > sb.limits.max_sequence:
        raise too_big("choices", count, sb.limits.max_sequence)
    for key in ("cum_weights", "weights"):
        if kwargs.get(key) is not None and not hasattr(kwargs[key], "__len__"):
            kwargs = {**kwargs, key: sb.materialize(kwargs[key])}
    return sb.charge(method(*args, **kwargs))


def _g_substitute(sb: SandboxLike, method: Callable, obj: Any, args: tuple,
                  kwargs: dict) -> Any:
    values = [v for a in args if isinstance(a, dict) for v in a.values()] + list(kwargs.values())
    longest = max((len(v) for v in values if isinstance(v, (str, bytes))), default=20)
    size = len(obj.template) + obj.template.count(obj.delimiter) * max(longest, 20)
    if size > sb.limits.max_string:
        raise too_big("substituted string", size, sb.limits.max_string)
    return sb.charge(method(*args, **kwargs))


def _g_strftime(sb: SandboxLike, method: Callable, obj: Any, args: tuple, kwargs: dict) -> Any:
    fmt = _arg(args, kwargs, 0, "format", "")
    if isinstance(fmt, str) and len(fmt) * 32 > sb.limits.max_string:
        raise too_big("strftime format", len(fmt), sb.limits.max_string // 32)
    return sb.charge(method(*args, **kwargs))


def _g_integral(sb: SandboxLike, method: Callable, obj: Any, args: tuple, kwargs: dict) -> Any:
    check_integral(obj, sb.limits.max_int_bits)
    return method(*args, **kwargs)


MODULE_GUARDS: dict[type, dict[str, Callable[..., Any]]] = {
    random.Random: {"randbytes": _g_length(0, "n", "random bytes"),
                    "getrandbits": _g_getrandbits, "choices": _g_choices,
                    "sample": _g_length(1, "k", "sample", per_item=8)},
    statistics.NormalDist: {"samples": _g_length(0, "n", "samples", per_item=8)},
    decimal.Decimal: {"as_integer_ratio": _g_integral},
    string.Template: {"substitute": _g_substitute, "safe_substitute": _g_substitute},
    datetime.date: {"strftime": _g_strftime}, datetime.datetime: {"strftime": _g_strftime},
    datetime.time: {"strftime": _g_strftime},
    **{kind: {"digest": _g_length(0, "length", "digest"),
              "hexdigest": _g_length(0, "length", "digest", per_item=2)}
       for kind in _SHAKE_TYPES},
}


# --- building the views -------------------------------------------------------------------

def _callable_arg(sb: SandboxLike, value: Any) -> Any:
    """A user-defined function handed to host code runs under the sandbox's checks."""
    return sb.checked_callable(value) if isinstance(value, Procedure) else value


def _function(sb: SandboxLike, func: Callable[..., Any], name: str,
              guard: Callable[..., None] | None = None) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        args = tuple(_callable_arg(sb, a) for a in args)
        kwargs = {k: _callable_arg(sb, v) for k, v in kwargs.items()}
        if guard is not None:
            guard(sb, *args, **kwargs)
        return func(*args, **kwargs)
    call.__name__ = call.__qualname__ = name
    return call


def _view(sb: SandboxLike, name: str, module: Any, names: list[str],
          guards: dict[str, Callable[..., None]] | None = None) -> ModuleView:
    members: dict[str, Any] = {}
    for member in names:
        value = getattr(module, member)
        if callable(value) and not isinstance(value, type):
            value = _function(sb, value, member, (guards or {}).get(member))
        members[member] = value
    return ModuleView(name, members)


def _factorial_guard(sb: SandboxLike, n: Any = 0, *args: Any) -> None:
    if isinstance(n, int) and n > 2:
        _bits_check(sb, n * math.log2(n), "factorial")


def _comb_guard(sb: SandboxLike, n: Any = 0, k: Any = None, *args: Any) -> None:
    if isinstance(n, int) and n > 2:
        _bits_check(sb, n, "result")  # comb(n, k) <= 2**n


def _perm_guard(sb: SandboxLike, n: Any = 0, k: Any = None, *args: Any) -> None:
    if isinstance(n, int) and n > 2:
        k = n if not isinstance(k, int) else k
        _bits_check(sb, max(k, 1) * math.log2(n), "result")


def _product_guard(sb: SandboxLike, values: Any = (), *args: Any, **kwargs: Any) -> None:
    """prod() and lcm() of integers: their result has at most the sum of their bits."""
    items = [values, *args] if isinstance(values, int) else values
    if hasattr(items, "__len__"):
        _bits_check(sb, sum(v.bit_length() for v in items if isinstance(v, int)), "result")


def _integral_guard(sb: SandboxLike, value: Any = None, *args: Any) -> None:
    check_integral(value, sb.limits.max_int_bits)


def _data_guard(sb: SandboxLike, data: Any = (), *args: Any, **kwargs: Any) -> None:
    """statistics works in exact fractions: a Decimal like 1E+999999 would take minutes."""
    for value in (data if isinstance(data, (list, tuple)) else ()):
        check_integral(value, sb.limits.max_int_bits)


def _pbkdf2_guard(sb: SandboxLike, hash_name: Any = None, password: Any = b"", salt: Any = b"",
                  iterations: Any = 1, dklen: Any = None) -> None:
    if isinstance(iterations, int) and iterations > 10_000_000:
        raise too_big("pbkdf2 iterations", iterations, 10_000_000)
    if isinstance(dklen, int) and dklen > 1 << 16:
        raise too_big("pbkdf2 key length", dklen, 1 << 16)


def _context_guard(sb: SandboxLike, prec: Any = None, rounding: Any = None, emin: Any = None,
                   emax: Any = None, *args: Any, **kwargs: Any) -> None:
    prec = kwargs.get("prec", prec)
    if isinstance(prec, int) and prec > 100_000:
        raise too_big("decimal precision", prec, 100_000)
    for value in (kwargs.get("Emax", emax), kwargs.get("Emin", emin)):
        if isinstance(value, int) and abs(value) > 999_999:
            raise too_big("decimal exponent limit", abs(value), 999_999)


def _namedtuple_guard(sb: SandboxLike, typename: Any = "", field_names: Any = (),
                      **kwargs: Any) -> None:
    fields = field_names.replace(",", " ").split() if isinstance(field_names, str) \
        else field_names
    if hasattr(fields, "__len__") and len(fields) > 1000:
        raise too_big("namedtuple fields", len(fields), 1000)


def _indent_guard(sb: SandboxLike, text: Any = "", prefix: Any = "", *args: Any,
                  **kwargs: Any) -> None:
    if isinstance(text, str) and isinstance(prefix, str):
        size = len(text) + (text.count("\n") + 1) * len(prefix)
        if size > sb.limits.max_string:
            raise too_big("indented text", size, sb.limits.max_string)


def _ticking(sb: SandboxLike, iterator: Iterator[Any]) -> Iterator[Any]:
    """Yield from `iterator`, checking the deadline every 1024 items, so that C code
    consuming an endless iterator (`sum(itertools.count())`) still stops on time."""
    count = 0
    for item in iterator:
        count += 1
        if not count & 0x3FF:
            sb.tick()
        yield item


def _iterating(sb: SandboxLike, func: Callable[..., Any], name: str,
               materialize: bool = False) -> Callable[..., Any]:
    """An itertools function whose iterator ticks; with `materialize`, its iterable inputs
    (which it would copy in C, unbounded) are first taken under the sequence limit."""
    def call(*args: Any, **kwargs: Any) -> Iterator[Any]:
        args = tuple(_callable_arg(sb, a) for a in args)
        kwargs = {k: _callable_arg(sb, v) for k, v in kwargs.items()}
        if materialize:
            args = tuple(sb.materialize(a) if not hasattr(a, "__len__") else a for a in args)
        repeat = kwargs.get("repeat", 1)
        if isinstance(repeat, int) and repeat > 1000 or \
                name == "tee" and len(args) > 1 and isinstance(args[1], int) and args[1] > 1000:
            raise SandboxLimit(f"itertools.{name}: too many copies (at most 1000)")
        result = func(*args, **kwargs)
        if isinstance(result, tuple):  # tee
            return tuple(_ticking(sb, it) for it in result)  # type: ignore[return-value]
        return _ticking(sb, result)
    call.__name__ = call.__qualname__ = name
    return call


_ITERTOOLS = {  # name -> whether its inputs are copied in C first
    "accumulate": False, "batched": False, "chain": False, "compress": False, "count": False,
    "cycle": True, "dropwhile": False, "filterfalse": False, "groupby": False, "islice": False,
    "pairwise": False, "permutations": True, "product": True, "repeat": False, "starmap": False,
    "takewhile": False, "tee": False, "zip_longest": False, "combinations": True,
    "combinations_with_replacement": True,
}
_STATISTICS = [n for n in statistics.__all__ if n != "kde_random"]
_URLLIB_PARSE = [
    "quote", "quote_plus", "quote_from_bytes", "unquote", "unquote_plus", "unquote_to_bytes",
    "urlencode", "urlparse", "urlunparse", "urlsplit", "urlunsplit", "urljoin", "urldefrag",
    "parse_qs", "parse_qsl", "ParseResult", "SplitResult", "DefragResult",
]
_BASE64 = [
    "b64encode", "b64decode", "standard_b64encode", "standard_b64decode", "urlsafe_b64encode",
    "urlsafe_b64decode", "b32encode", "b32decode", "b32hexencode", "b32hexdecode",
    "b16encode", "b16decode", "a85encode", "a85decode", "b85encode", "b85decode",
    "encodebytes", "decodebytes",
]
_HASHLIB = [
    "md5", "sha1", "sha224", "sha256", "sha384", "sha512", "blake2b", "blake2s", "sha3_224",
    "sha3_256", "sha3_384", "sha3_512", "shake_128", "shake_256", "new", "pbkdf2_hmac",
    "algorithms_available", "algorithms_guaranteed",
]
_RANDOM = [
    "random", "uniform", "randint", "randrange", "choice", "choices", "sample", "shuffle",
    "gauss", "normalvariate", "lognormvariate", "expovariate", "vonmisesvariate",
    "gammavariate", "betavariate", "paretovariate", "weibullvariate", "triangular",
    "getrandbits", "randbytes", "seed", "binomialvariate",
]
_DECIMAL = [
    "Decimal", "Context", "DecimalException", "InvalidOperation", "DivisionByZero", "Inexact",
    "Rounded", "Overflow", "Underflow", "Subnormal", "Clamped", "FloatOperation",
    "ROUND_UP", "ROUND_DOWN", "ROUND_CEILING", "ROUND_FLOOR", "ROUND_HALF_UP",
    "ROUND_HALF_DOWN", "ROUND_HALF_EVEN", "ROUND_05UP", "MAX_EMAX", "MIN_EMIN",
]


def _random_view(sb: SandboxLike) -> ModuleView:
    """`random` backed by a generator of this run's own, seeded afresh: one run's `seed()`
    never makes another run's numbers predictable."""
    generator = random.Random()
    guards = MODULE_GUARDS[random.Random]
    members: dict[str, Any] = {"Random": random.Random}
    for name in _RANDOM:
        method = getattr(generator, name)
        guard = guards.get(name)

        def call(*args: Any, _m: Any = method, _g: Any = guard, **kwargs: Any) -> Any:
            args = tuple(_callable_arg(sb, a) for a in args)
            return _g(sb, _m, generator, args, kwargs) if _g else _m(*args, **kwargs)
        call.__name__ = call.__qualname__ = name
        members[name] = call
    return ModuleView("random", members)


def _decimal_view(sb: SandboxLike) -> ModuleView:
    decimal.setcontext(decimal.Context())  # arithmetic starts from the defaults every run
    view = _view(sb, "decimal", decimal, [n for n in _DECIMAL if n != "Context"])
    view.members["Context"] = _function(sb, decimal.Context, "Context", _context_guard)
    return view


def build_modules(sb: SandboxLike) -> dict[str, ModuleView]:
    """The importable modules, by name, for one run of the code node."""
    public = [n for n in dir(math) if not n.startswith("_")]
    parse = _view(sb, "urllib.parse", urllib.parse, _URLLIB_PARSE)
    itertools_members: dict[str, Any] = {
        name: _iterating(sb, getattr(itertools, name), name, copies)
        for name, copies in _ITERTOOLS.items() if hasattr(itertools, name)
    }
    itertools_members["chain"] = CallableView("chain", itertools_members["chain"], {
        "from_iterable": _iterating(sb, itertools.chain.from_iterable, "from_iterable")})
    return {
        "json": _json_view(sb),
        "re": _view(sb, "re", re, [
            "compile", "search", "match", "fullmatch", "split", "findall", "finditer", "sub",
            "subn", "escape", "error", "A", "ASCII", "I", "IGNORECASE", "M", "MULTILINE",
            "S", "DOTALL", "X", "VERBOSE", "U", "UNICODE", "NOFLAG"]),
        "math": _view(sb, "math", math, public, {
            "factorial": _factorial_guard, "comb": _comb_guard, "perm": _perm_guard,
            "prod": _product_guard, "lcm": _product_guard, "floor": _integral_guard,
            "ceil": _integral_guard, "trunc": _integral_guard}),
        "datetime": _view(sb, "datetime", datetime, [
            "date", "datetime", "time", "timedelta", "timezone", "MINYEAR", "MAXYEAR", "UTC"]),
        "decimal": _decimal_view(sb),
        "statistics": _view(sb, "statistics", statistics, _STATISTICS,
                            dict.fromkeys(_STATISTICS, _data_guard)),
        "itertools": ModuleView("itertools", itertools_members),
        "collections": _view(sb, "collections", collections, [
            "Counter", "OrderedDict", "defaultdict", "deque", "ChainMap", "namedtuple"],
            {"namedtuple": _namedtuple_guard}),
        "hashlib": _view(sb, "hashlib", hashlib, _HASHLIB, {"pbkdf2_hmac": _pbkdf2_guard}),
        "base64": _view(sb, "base64", base64, _BASE64),
        "uuid": _view(sb, "uuid", uuid, [
            "UUID", "uuid3", "uuid4", "uuid5", "NAMESPACE_DNS", "NAMESPACE_URL",
            "NAMESPACE_OID", "NAMESPACE_X500"]),
        "random": _random_view(sb),
        "string": _view(sb, "string", string, [
            "ascii_letters", "ascii_lowercase", "ascii_uppercase", "digits", "hexdigits",
            "octdigits", "punctuation", "printable", "whitespace", "capwords", "Template"]),
        "textwrap": _view(sb, "textwrap", textwrap,
                          ["wrap", "fill", "shorten", "dedent", "indent"],
                          {"indent": _indent_guard}),
        "urllib": ModuleView("urllib", {"parse": parse}),
        "urllib.parse": parse,
    }


def _json_view(sb: SandboxLike) -> ModuleView:
    lim = sb.limits

    def dumps(value: Any, **kwargs: Any) -> str:
        from .limits import measure

        measure(value, lim.max_string, "JSON text")
        allowed = {"indent", "sort_keys", "ensure_ascii", "separators", "default",
                   "allow_nan", "skipkeys"}
        unknown = set(kwargs) - allowed
        if unknown:
            raise TypeError(f"dumps() does not take {sorted(unknown)[0]!r} here")
        indent = kwargs.get("indent")
        if isinstance(indent, str) and len(indent) > 16 or \
                isinstance(indent, int) and indent > 16:
            raise ValueError("indent must be at most 16")
        text = json.dumps(value, **kwargs)
        if len(text) > lim.max_string:
            raise too_big("JSON text", len(text), lim.max_string)
        return text

    def loads(text: Any, **kwargs: Any) -> Any:
        if isinstance(text, (str, bytes)) and len(text) > lim.max_json_text:
            raise too_big("JSON text", len(text), lim.max_json_text)
        allowed = {"object_hook", "object_pairs_hook", "parse_float", "parse_int",
                   "parse_constant"}
        unknown = set(kwargs) - allowed
        if unknown:
            raise TypeError(f"loads() does not take {sorted(unknown)[0]!r} here")
        return json.loads(text, **kwargs)

    members = {"dumps": _function(sb, dumps, "dumps"), "loads": _function(sb, loads, "loads"),
               "JSONDecodeError": json.JSONDecodeError}
    return ModuleView("json", members)
