"""The bounds one evaluation runs under, the errors a bound raises, and size estimation.

    measure(value, EXPRESSION_LIMITS.max_output)   # raises SandboxLimit past the bound
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

DEFAULT_TIMEOUT = 2.0
MAX_EXPRESSION_LENGTH = 20_000
MAX_CODE_LENGTH = 200_000
CONTAINER_ITEM_BYTES = 40  # rough cost of one container slot plus a small object

# Values whose text and size need no walk.
SCALARS = (str, bytes, int, float, bool, type(None), complex)


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


def code_limits(memory_bytes: int) -> Limits:
    """Limits for the code node: the worker's address-space limit backs them, so they are
    scaled from it."""
    return replace(EXPRESSION_LIMITS, max_memory=memory_bytes, max_call_depth=200)


class ExpressionError(Exception):
    """An expression failed; `str()` gives the expression and the reason."""

    def __init__(self, expression: str, reason: str, lineno: int | None = None):
        where = f"line {lineno}: " if lineno else ""
        super().__init__(f"{where}{reason} (in expression: {expression.strip()[:200]})")
        self.expression = expression
        self.reason = reason
        self.lineno = lineno


class SandboxLimit(BaseException):
    """A bound was hit (time, size, depth). Never catchable from inside the sandbox."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def too_big(what: str, size: int, limit: int) -> SandboxLimit:
    return SandboxLimit(f"{what} would be too large ({size:,} > {limit:,})")


def check_integral(value: Any, max_bits: int) -> None:
    """Refuse turning a Decimal like 1E+999999 into an integer: CPython would spend minutes
    building it in C."""
    if isinstance(value, Decimal) and value.is_finite() and value.adjusted() > 0:
        bits = int(value.adjusted() * 3.33)
        if bits > max_bits:
            raise too_big("integer (bits)", bits, max_bits)


def measure(value: Any, limit: int, what: str = "result") -> int:
    """Estimate the serialized size of `value`, raising SandboxLimit once it passes `limit`.

    A shared object is counted each time it appears (serialization repeats it) but sized
    only once, so `[[0] * 10**6] * 10**6` is refused after a handful of steps."""
    return _measure(value, limit, what, {}, 0)


def _scalar_size(item: Any) -> int | None:
    kind = type(item)
    if kind is str or kind is bytes or kind is bytearray:
        return len(item) + 2
    if kind is int:
        return item.bit_length() // 3 + 2
    if item is None or kind is bool or kind is float or kind is complex:
        return 8
    return None


def _measure(item: Any, limit: int, what: str, memo: dict[int, int], depth: int) -> int:
    size = _scalar_size(item)
    if size is None:
        if isinstance(item, (dict, list, tuple, set, frozenset, deque)):
            size = _measure_container(item, limit, what, memo, depth)
        else:
            size = 64
    if size > limit:
        raise SandboxLimit(f"{what} too large (over {limit:,} characters)")
    return size


def _measure_container(item: Any, limit: int, what: str, memo: dict[int, int],
                       depth: int) -> int:
    known = memo.get(id(item))
    if known is not None:
        return known
    if depth >= 200:
        raise SandboxLimit(f"{what} is nested too deeply")
    size = 2
    is_dict = isinstance(item, dict)
    for entry in (dict.items(item) if is_dict else item):
        if is_dict:
            key, entry = entry
            size += 4 + _measure(key, limit, what, memo, depth + 1)
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
    return size
