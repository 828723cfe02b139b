"""Address-free text for values: what `str()`, `repr()`, f-strings, `%` and templates show.

Python's own text for a function, a method or an iterator names the host object and its heap
address (`<built-in method get of dict object at 0x7f...>`, `<function _keyed.<locals>.keyed
at 0x...>`). Inside the sandbox such values read as `<function sorted>`, `<method get>`,
`<zip object>`; plain data reads exactly as in Python.

    safe_repr([1, sorted])    -> "[1, <function sorted>]"
    safe_str({"f": {}.get})   -> "{'f': <method get>}"
"""

from __future__ import annotations

import datetime
import decimal
import re
import reprlib
import types
import uuid
from typing import Any

from .asteval_import import Procedure

_REPR_PLAIN = (str, bytes, int, float, bool, type(None), complex, range, slice)
# Values of the importable modules whose str() and repr() show only their data.
_TEXT_PLAIN = (datetime.date, datetime.time, datetime.timedelta, datetime.timezone,
               decimal.Decimal, uuid.UUID)
_VIEWS: tuple[type, ...] = (type({}.keys()), type({}.values()), type({}.items()))
_METHOD_TYPES = (types.BuiltinMethodType, types.MethodType, types.MethodWrapperType,
                 types.MethodDescriptorType, types.WrapperDescriptorType,
                 types.ClassMethodDescriptorType)
# What a host object's text looks like in a message: "<... at 0x7f...>".
_ADDRESS = re.compile(r"<[^<>]*? at 0x[0-9a-fA-F]+>")
_INTERNAL = re.compile(r"\bProcedure\b")


def safe_repr(value: Any) -> str:
    """repr(value), with host objects described without addresses or internal names."""
    text = repr(value)
    if "<" not in text:  # plain data (and functions always show "<")
        return text
    return _repr(value, set())


def safe_str(value: Any) -> str:
    """str(value), with host objects described without addresses or internal names."""
    if isinstance(value, str):
        return value
    if isinstance(value, BaseException):
        args = value.args
        if not args:
            return ""
        return safe_str(args[0]) if len(args) == 1 else safe_repr(args)
    if isinstance(value, _REPR_PLAIN + _TEXT_PLAIN):
        return str(value)
    return safe_repr(value)


def scrub(message: str) -> str:
    """A message with any host object's text (address, internal class) made plain."""
    message = _ADDRESS.sub(lambda m: _plain_from_text(m.group(0)), message)
    return _INTERNAL.sub("function", message)


def _plain_from_text(text: str) -> str:
    words = text.strip("<>").split()
    if len(words) >= 3 and words[0] in ("built-in", "bound") and words[1] == "method":
        return f"<method {words[2].rsplit('.', 1)[-1]}>"
    if len(words) >= 2 and words[0] == "function":
        return f"<function {words[1].rsplit('.', 1)[-1]}>"
    if len(words) >= 2 and words[1] == "object":
        return f"<{words[0].rsplit('.', 1)[-1]} object>"
    return "<object>"


def describe_object(value: Any) -> str:
    """The text of a value that is not data (a function, a method, an iterator, a class)."""
    if isinstance(value, type):
        if value.__module__ == "builtins":
            return repr(value)
        return f"<class {value.__name__!r}>"
    if isinstance(value, Procedure):
        return f"<function {value.__name__}>"
    if isinstance(value, _METHOD_TYPES):
        if isinstance(value, types.BuiltinMethodType) and _is_module(value.__self__):
            return f"<function {value.__name__}>"
        return f"<method {value.__name__}>"
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType)):
        return f"<function {value.__name__}>"
    return f"<{type(value).__name__} object>"


def _is_module(owner: Any) -> bool:
    return owner is None or isinstance(owner, types.ModuleType)


def _repr(value: Any, active: set[int]) -> str:
    if isinstance(value, _REPR_PLAIN + _TEXT_PLAIN):
        return repr(value)
    if isinstance(value, (list, tuple, dict, set, frozenset)) or type(value) in _VIEWS:
        if id(value) in active:
            return "{...}" if isinstance(value, dict) else "[...]"
        active.add(id(value))
        try:
            return _repr_container(value, active)
        finally:
            active.discard(id(value))
    if isinstance(value, BaseException):
        return f"{type(value).__name__}({_join(value.args, active)})"
    return describe_object(value)


def _join(items: Any, active: set[int]) -> str:
    return ", ".join(_repr(item, active) for item in items)


def _repr_container(value: Any, active: set[int]) -> str:
    if isinstance(value, dict):
        inner = ", ".join(f"{_repr(k, active)}: {_repr(v, active)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + _join(value, active) + "]"
    if isinstance(value, tuple):
        return "(" + _join(value, active) + ("," if len(value) == 1 else "") + ")"
    if type(value) in _VIEWS:
        return f"{type(value).__name__}([{_join(value, active)}])"
    name = type(value).__name__
    if not value:
        return f"{name}()"
    inner = "{" + _join(value, active) + "}"
    return inner if type(value) is set else f"{name}({inner})"


class ShortRepr(reprlib.Repr):
    """reprlib's bounded repr for error messages, with host objects described safely."""

    def repr_instance(self, x: Any, level: int) -> str:
        return describe_object(x)[: self.maxother]


class Shown:
    """Stands for a non-scalar value in `%` formatting: `%s`/`%r`/`%a` give its safe text,
    and a wrong conversion (`%d`) names the value's own type, as Python does."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __str__(self) -> str:
        return safe_str(self.value)

    def __repr__(self) -> str:
        return safe_repr(self.value)


def _item(self: Shown, key: Any) -> Any:
    return self.value[key]


_SHOWN_TYPES: dict[tuple[str, bool], type[Shown]] = {}


def shown(value: Any) -> Any:
    """`value` ready for `%` formatting: scalars as they are, anything else as a Shown."""
    if isinstance(value, _REPR_PLAIN):
        return value
    # `%` reads a non-tuple value with items (a list) as a mapping, so the stand-in has
    # items exactly when the value does.
    key = (type(value).__name__, hasattr(type(value), "__getitem__"))
    cls = _SHOWN_TYPES.get(key)
    if cls is None:
        attrs: dict[str, Any] = {"__slots__": ()}
        if key[1]:
            attrs["__getitem__"] = _item
        cls = _SHOWN_TYPES[key] = type(key[0], (Shown,), attrs)
    return cls(value)
