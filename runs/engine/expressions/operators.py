"""Operators and f-strings under the sandbox's bounds: every binary operation that can build
something big is checked before it runs, and values shown in text are address-free.

A mixin of `Sandbox` (see `interpreter`), kept apart so each part stays readable.
"""

from __future__ import annotations

import ast
import operator
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .display import safe_repr, safe_str, shown
from .guards import check_format_spec, check_percent_format
from .limits import SCALARS, Limits, SandboxLimit, measure, too_big

if TYPE_CHECKING:
    from .asteval_import import Interpreter as _Base
else:
    _Base = object

_STRINGS = (str, bytes)
_SEQUENCES = (str, bytes, list, tuple, deque)

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow, ast.LShift: operator.lshift, ast.RShift: operator.rshift,
    ast.BitOr: operator.or_, ast.BitXor: operator.xor, ast.BitAnd: operator.and_,
    ast.MatMult: operator.matmul,
}
INPLACE: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.iadd, ast.Sub: operator.isub, ast.Mult: operator.imul,
    ast.BitOr: operator.ior, ast.BitAnd: operator.iand, ast.BitXor: operator.ixor,
}



class OperatorsMixin(_Base):
    limits: Limits

    def charge(self, value: Any) -> Any:
        raise NotImplementedError

    # -- operators -------------------------------------------------------------------------
    def on_binop(self, node):
        left = self.run(node.left)
        right = self.run(node.right)
        return self.binary(type(node.op), left, right)

    def binary(self, op: type[ast.operator], left: Any, right: Any, *,
               inplace: bool = False) -> Any:
        """`left <op> right` after the size checks for that operator."""
        check = _CHECKS.get(op)
        if check is not None:
            right = check(self, left, right)
        func = INPLACE[op] if inplace else _BINARY[op]
        return self.charge(func(left, right))

    def _check_repeat(self, left: Any, right: Any) -> Any:
        lim = self.limits
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, _SEQUENCES) and isinstance(n, int):
                cap = lim.max_string if isinstance(seq, _STRINGS) else lim.max_sequence
                if len(seq) * n > cap:
                    raise too_big("result of repetition", len(seq) * n, cap)
        if isinstance(left, int) and isinstance(right, int):
            bits = left.bit_length() + right.bit_length()
            if bits > lim.max_int_bits:
                raise too_big("integer (bits)", bits, lim.max_int_bits)
        return right

    def _check_concat(self, left: Any, right: Any) -> Any:
        if isinstance(left, _SEQUENCES) and hasattr(right, "__len__"):
            cap = self.limits.max_string if isinstance(left, _STRINGS) \
                else self.limits.max_sequence
            if len(left) + len(right) > cap:
                raise too_big("result of concatenation", len(left) + len(right), cap)
        return right

    def _check_pow(self, left: Any, right: Any) -> Any:
        if isinstance(left, int) and isinstance(right, int) and right > 1 and abs(left) > 1:
            bits = left.bit_length() * right
            if bits > self.limits.max_int_bits:
                raise too_big("integer power (bits)", bits, self.limits.max_int_bits)
        elif isinstance(right, (int, float)) and abs(right) > 10_000 \
                and isinstance(left, complex):
            raise SandboxLimit("exponent too large")
        return right

    def _check_shift(self, left: Any, right: Any) -> Any:
        if isinstance(left, int) and isinstance(right, int) and left:
            bits = left.bit_length() + right
            if bits > self.limits.max_int_bits:
                raise too_big("integer shift (bits)", bits, self.limits.max_int_bits)
        return right

    def _check_percent(self, left: Any, right: Any) -> Any:
        if not isinstance(left, _STRINGS):
            return right
        check_percent_format(left, right, self)
        # Values that are not scalars show their address-free text under %s / %r.
        if isinstance(right, tuple):
            return tuple(shown(v) for v in right)
        if isinstance(right, dict):
            return {k: shown(v) for k, v in right.items()}
        return shown(right)

    def _check_union(self, left: Any, right: Any) -> Any:
        if isinstance(left, (set, frozenset, dict)) and hasattr(right, "__len__") \
                and len(left) + len(right) > self.limits.max_sequence:
            raise too_big("union", len(left) + len(right), self.limits.max_sequence)
        return right

    # -- strings ---------------------------------------------------------------------------
    def on_formattedvalue(self, node):
        value = self.run(node.value)
        if not isinstance(value, SCALARS):
            measure(value, self.limits.max_string, "formatted value")
        if node.conversion == 114:  # !r
            value = safe_repr(value)
        elif node.conversion == 97:  # !a
            value = safe_repr(value).encode("ascii", "backslashreplace").decode("ascii")
        elif node.conversion == 115:  # !s
            value = safe_str(value)
        spec = ""
        if node.format_spec is not None:
            spec = self.run(node.format_spec)
            if not isinstance(spec, str):
                spec = ""
            check_format_spec(spec, self)
        if not spec and not isinstance(value, SCALARS):
            return safe_str(value)  # format(value, "") is str(value)
        # format(), not str.format: a spec cannot name fields or traverse attributes.
        return format(value, spec)

    def on_joinedstr(self, node):
        parts = [self.run(part) for part in node.values]
        size = sum(len(p) for p in parts if isinstance(p, str))
        if size > self.limits.max_string:
            raise too_big("f-string", size, self.limits.max_string)
        return self.charge("".join(p for p in parts if isinstance(p, str)))


_CHECKS: dict[type[ast.operator], Callable[[Any, Any, Any], Any]] = {
    ast.Mult: OperatorsMixin._check_repeat, ast.Add: OperatorsMixin._check_concat,
    ast.Pow: OperatorsMixin._check_pow, ast.LShift: OperatorsMixin._check_shift,
    ast.Mod: OperatorsMixin._check_percent, ast.BitOr: OperatorsMixin._check_union,
}
