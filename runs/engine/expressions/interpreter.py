"""The interpreter: asteval with an allowlist of attributes, guarded builtins, a deadline,
allocation budgets and address-free text, and with Python's meaning where asteval differs
(`{**a, "k": 1}`, `[*items, 1]`, `a, *rest = items`, `xs += [1]` extending in place).

    sb = Sandbox(); sb.reset({"input": {...}}, timeout=2.0); sb.run(tree)
"""

from __future__ import annotations

import ast
import math
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from .asteval_import import Interpreter, Procedure
from .display import safe_str
from .exceptions import ExceptionsMixin
from .guards import (
    DENIED_ATTRIBUTES,
    GUARDED_METHODS,
    READ_ONLY_DICT_METHODS,
    SAFE_TYPES,
    ReadOnlyDict,
    describe,
    safe_exc_type,
    wrap,
)
from .imports import MODULE_GUARDS, MODULE_TYPES, ImportsMixin, ModuleView, namedtuple_attribute
from .library import make_builtins
from .limits import (
    CONTAINER_ITEM_BYTES,
    EXPRESSION_LIMITS,
    MAX_CODE_LENGTH,
    MAX_EXPRESSION_LENGTH,
    SCALARS,
    Limits,
    SandboxLimit,
    check_integral,
    measure,
    too_big,
)
from .operators import INPLACE, OperatorsMixin
from .procedures import bind_arguments

_CONTAINERS = (list, tuple, dict, set, frozenset)
_BUILDERS = frozenset({list, tuple, set, frozenset, dict})
_STRINGS = (str, bytes)
_SEQUENCES = (str, bytes, list, tuple)
# Types whose public attributes the sandbox reads: plain data, and what the importable
# modules return (only the code node can import them).
ALLOWED_TYPES: dict[type, type] = {**SAFE_TYPES, **MODULE_TYPES}
ALL_GUARDS: dict[type, dict[str, Callable[..., Any]]] = {**GUARDED_METHODS, **MODULE_GUARDS}


class Sandbox(ImportsMixin, ExceptionsMixin, OperatorsMixin, Interpreter):
    """asteval with an allowlist of attributes, guarded builtins, a deadline and budgets."""

    # asteval's state, as this class uses it
    error: list[Any]
    error_msg: str | None
    code_text: list[str]

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
        if statements:  # only the vetted modules (`imports`)
            self.node_handlers["import"] = self.on_import
            self.node_handlers["importfrom"] = self.on_importfrom
        self.builtins = make_builtins(self, statements=statements)
        self.node_handlers["generatorexp"] = self.on_generatorexp
        # run()'s handler by AST class, filled as met; node_handlers is final from here on
        self._handlers: dict[type, Any] = {}

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

    def materialize(self, iterable: Any) -> list[Any]:
        """A list of the items of any iterable, stopping once it passes the sequence limit."""
        out = []
        cap = self.limits.max_sequence
        for item in iterable:
            out.append(item)
            if len(out) > cap:
                raise too_big("sequence", len(out), cap)
            if not len(out) & 0x3FF:
                self.tick()
        self.charge(out)
        return out

    def items_of(self, value: Any) -> list[Any] | tuple[Any, ...]:
        """The items of an iterable being unpacked (`*value`), without a copy when it is
        already a list or tuple."""
        if isinstance(value, (list, tuple)):
            return value
        return self.materialize(value)

    # -- calls -----------------------------------------------------------------------------
    def invoke(self, func: Any, args: list[Any] | tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Every call from the sandbox goes through here, whether from the AST or from a
        builtin iterating for us (map, filter, sort keys), so prechecks always apply."""
        self.tick()
        if isinstance(func, type) and func in _BUILDERS and args \
                and hasattr(args[0], "__len__"):
            if len(args[0]) > self.limits.max_sequence:
                raise too_big(getattr(func, "__name__", "sequence"), len(args[0]),
                              self.limits.max_sequence)
        elif isinstance(func, type) and func in _BUILDERS and args:
            args = (self.materialize(args[0]), *args[1:])  # an iterator: taken under the cap
        elif func is int and args:
            check_integral(args[0], self.limits.max_int_bits)
        elif func is str and len(args) == 1 and not kwargs and not isinstance(args[0], SCALARS):
            measure(args[0], self.limits.max_string, "string")
            return self.charge(safe_str(args[0]))  # no host addresses in the text
        if isinstance(func, Procedure):
            # Procedure.__call__ counts its own depth in _calldepth.
            if self._calldepth >= self.limits.max_call_depth:
                raise SandboxLimit(
                    f"recursion deeper than {self.limits.max_call_depth} calls"
                )
            positional, keywords = bind_arguments(func, args, kwargs)
            return func(*positional, **keywords)
        out = func(*args, **kwargs)
        # A freshly built object is referenced only by `out` (and getrefcount's argument);
        # an existing one handed back (dict.get, max) costs nothing new.
        if sys.getrefcount(out) <= 2:
            self.charge(out)
        return out

    def checked_callable(self, func: Any) -> Callable[..., Any] | None:
        if func is None:
            return None
        if not callable(func):
            raise TypeError(f"'{type(func).__name__}' object is not callable")

        def call(*args: Any) -> Any:
            return self.invoke(func, args, {})

        return call

    def _call_args(self, node: ast.Call) -> list[Any]:
        args: list[Any] = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                args.extend(self.items_of(self.run(arg.value)))
            else:
                args.append(self.run(arg))
        return args

    def _call_keywords(self, node: ast.Call) -> dict[str, Any]:
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
        return keywords

    def on_call(self, node):
        func = self.run(node.func)
        if not callable(func):
            self.raise_exception(node, exc=TypeError,
                                 msg=f"'{type(func).__name__}' object is not callable")
        args = self._call_args(node)
        keywords = self._call_keywords(node)
        if len(self.error) > 0:
            return None
        try:
            return self.invoke(func, args, keywords)
        except Exception as exc:
            if len(self.error) > 0 and isinstance(func, Procedure):
                raise  # already recorded inside the procedure
            name = getattr(func, "__name__", None) or type(func).__name__
            self.raise_exception(node, exc=safe_exc_type(exc),
                                 msg=f"{name}(): {describe(exc)}")
            return None

    # -- names and attributes --------------------------------------------------------------
    def on_attribute(self, node):
        if not isinstance(node.ctx, ast.Load):
            self.raise_exception(node, exc=AttributeError,
                                 msg="attributes cannot be assigned or deleted")
        obj = self.run(node.value)
        try:
            return self.get_attribute(obj, node.attr)
        except AttributeError as exc:
            self.raise_exception(node, exc=AttributeError, msg=describe(exc))
            return None

    def get_attribute(self, obj: Any, attr: str) -> Any:
        if isinstance(obj, dict) and dict.__contains__(obj, attr):
            return wrap(dict.__getitem__(obj, attr))  # data, whatever its key looks like
        if attr.startswith("_") or attr in DENIED_ATTRIBUTES:
            raise AttributeError(f"access to attribute {attr!r} is not allowed")
        if isinstance(obj, ModuleView):
            return obj.member(attr)
        found, value = namedtuple_attribute(obj, attr)
        if found:
            return value
        if isinstance(obj, ReadOnlyDict):
            if attr in READ_ONLY_DICT_METHODS:
                return getattr(obj, attr)
            raise AttributeError(f"no key {attr!r}")
        bound = not (isinstance(obj, type) and obj in ALLOWED_TYPES)
        owner = ALLOWED_TYPES.get(type(obj)) if bound else ALLOWED_TYPES[obj]
        if owner is None:
            raise AttributeError(f"attributes of {type(obj).__name__} values are not available")
        try:
            value = getattr(obj, attr)
        except AttributeError:
            if bound and owner is dict:
                raise AttributeError(f"no key {attr!r}") from None
            raise AttributeError(f"{owner.__name__} has no attribute {attr!r}") from None
        guards = ALL_GUARDS.get(owner, {})
        if attr not in guards:
            return value
        return self._guarded(owner, attr, obj, value, bound, guards[attr])

    def _guarded(self, owner: type, attr: str, obj: Any, value: Any, bound: bool,
                 guard: Callable[..., Any]) -> Any:
        if bound:
            def call_bound(*args: Any, **kwargs: Any) -> Any:
                return guard(self, value, obj, args, kwargs)
            call_bound.__name__ = call_bound.__qualname__ = attr
            return call_bound

        def call_unbound(target: Any, *args: Any, **kwargs: Any) -> Any:
            if attr == "fromkeys":
                return guard(self, value, None, (target, *args), kwargs)
            if not isinstance(target, owner):
                raise TypeError(f"{owner.__name__}.{attr} needs a {owner.__name__}")
            return guard(self, getattr(target, attr), target, args, kwargs)
        call_unbound.__name__ = call_unbound.__qualname__ = attr
        return call_unbound

    # -- assignment (code node) ------------------------------------------------------------
    def node_assign(self, node, val):
        if isinstance(node, ast.Attribute):
            self.raise_exception(node, exc=AttributeError,
                                 msg="attributes cannot be assigned")
        if isinstance(node, (ast.Tuple, ast.List)):
            return self._unpack(node, val)
        return super().node_assign(node, val)

    def _unpack(self, node: ast.Tuple | ast.List, val: Any) -> None:
        """`a, b = x` and `a, *rest = x` as Python reads them."""
        items = self.items_of(val)
        starred = [i for i, t in enumerate(node.elts) if isinstance(t, ast.Starred)]
        if not starred:
            if len(items) != len(node.elts):
                raise ValueError(f"cannot unpack {len(items)} values into "
                                 f"{len(node.elts)} names")
            for target, item in zip(node.elts, items, strict=True):
                self.node_assign(target, item)
            return
        star = starred[0]
        after = len(node.elts) - star - 1
        if len(items) < star + after:
            raise ValueError(f"not enough values to unpack (expected at least "
                             f"{star + after}, got {len(items)})")
        for target, item in zip(node.elts[:star], items[:star], strict=True):
            self.node_assign(target, item)
        rest = list(items[star:len(items) - after])
        self.node_assign(node.elts[star].value, rest)  # type: ignore[attr-defined]
        for target, item in zip(node.elts[star + 1:], items[len(items) - after:], strict=True):
            self.node_assign(target, item)

    def on_augassign(self, node):
        """`x += y`: mutable values (lists, dicts, sets) change in place, as in Python."""
        if isinstance(node.target, ast.Attribute):
            self.raise_exception(node, exc=AttributeError, msg="attributes cannot be assigned")
        current = self.run(node.target)  # a name or an item, read before the value
        right = self.run(node.value)
        op = type(node.op)
        inplace = op in INPLACE and isinstance(current, (list, dict, set))
        self.node_assign(node.target, self.binary(op, current, right, inplace=inplace))

    def on_delete(self, node):
        for target in node.targets:
            if isinstance(target, ast.Name):
                self.symtable.pop(target.id, None)
            elif isinstance(target, ast.Subscript):
                container = self.run(target.value)
                del container[self.run(target.slice)]
            else:
                self.raise_exception(node, exc=SyntaxError,
                                     msg="only names and items can be deleted")

    def _comp_save_syms(self, node):
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

    # -- displays: [*a, 1], {*a}, {**a, "k": 1} -------------------------------------------
    def _elements(self, elts: list[ast.expr]) -> list[Any]:
        out: list[Any] = []
        for elt in elts:
            if isinstance(elt, ast.Starred):
                items = self.items_of(self.run(elt.value))
                if len(out) + len(items) > self.limits.max_sequence:
                    raise too_big("sequence", len(out) + len(items), self.limits.max_sequence)
                out.extend(items)
            else:
                out.append(self.run(elt))
        return self.charge(out)

    def on_list(self, node):
        return self._elements(node.elts)

    def on_tuple(self, node):
        return tuple(self._elements(node.elts))

    def on_set(self, node):
        return set(self._elements(node.elts))

    def on_dict(self, node):
        out: dict[Any, Any] = {}
        for key, value in zip(node.keys, node.values, strict=True):
            if key is not None:
                out[self.run(key)] = self.run(value)
                continue
            mapping = self.run(value)  # {**mapping}
            if not isinstance(mapping, Mapping):
                raise TypeError(f"'{type(mapping).__name__}' object is not a mapping")
            if len(out) + len(mapping) > self.limits.max_sequence:
                raise too_big("dict", len(out) + len(mapping), self.limits.max_sequence)
            out.update(mapping)
        return self.charge(out)

    # -- comprehensions: charge what they build ----------------------------------------------
    def on_listcomp(self, node):
        return self.charge(super().on_listcomp(node))

    def on_dictcomp(self, node):
        return self.charge(super().on_dictcomp(node))

    def on_generatorexp(self, node):
        # Evaluated at once (the names a lazy generator binds would be shared with the code
        # around it); what it yields is what Python's generator yields.
        return iter(self.on_listcomp(node))

    def do_generator(self, gnodes, node, out):
        if len(out) > self.limits.max_sequence:
            raise too_big("comprehension", len(out), self.limits.max_sequence)
        return super().do_generator(gnodes, node, out)

    # -- the main loop ---------------------------------------------------------------------
    def run(self, node, expr=None, lineno=None, with_raise=True):
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
        if lineno is not None or expr is not None:  # a new statement or expression: rare
            self._note_source(expr, lineno)
        line = getattr(node, "lineno", None)  # inline: run() is called for every AST node
        if line is not None:
            self.current_line = line
        kind = node.__class__
        handler = self._handlers.get(kind)
        if handler is None:  # node_handlers is keyed by the lower-case class name
            handler = self._handlers[kind] = (self.node_handlers.get(kind.__name__.lower())
                                              or self.unimplemented)
        try:
            ret = handler(node)
            if isinstance(ret, enumerate):
                ret = list(ret)
            return ret
        except Exception as exc:
            self._record(node, exc, with_raise)
        return None

    def _note_source(self, expr: str | None, lineno: int | None) -> None:
        if lineno is not None:
            self.lineno = lineno
        if expr is not None:
            self.expr = expr
            self.code_text.append(expr)

    def _record(self, node: ast.AST, exc: Exception, with_raise: bool) -> None:
        """Record a failure with a safe exception type and a bounded message; raise it unless
        a `try` is collecting it."""
        message = describe(exc) or type(exc).__name__
        if with_raise:
            if self.error:  # already recorded deeper down: keep the first reason
                message = self.error_msg or describe(exc)
            self.raise_exception(node, exc=safe_exc_type(exc), msg=message)
        elif not self.error:  # record it for `try` without raising
            try:
                self.raise_exception(node, exc=safe_exc_type(exc), msg=message)
            except Exception:
                pass

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
