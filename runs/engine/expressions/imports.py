"""`import` in the code node: only the vetted standard modules of `modules`, bound as views.

    import json                    -> json is a ModuleView
    import urllib.parse            -> urllib (a view holding only `parse`)
    from collections import Counter as C
    import os                      -> ImportError: import of 'os' is not allowed (...)

A mixin of `Sandbox` (see `interpreter`), installed only for statements (the code node);
`{{ }}` expressions never import.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

from .modules import ALLOWED_MODULES, MODULE_GUARDS, MODULE_TYPES, ModuleView, build_modules

if TYPE_CHECKING:
    from .asteval_import import Interpreter as _Base
else:
    _Base = object

_AVAILABLE = ", ".join(sorted(m for m in ALLOWED_MODULES if m != "urllib"))


def _refused(name: str) -> ImportError:
    return ImportError(f"import of {name!r} is not allowed; the code node can import: "
                       f"{_AVAILABLE}")


def namedtuple_attribute(obj: Any, attr: str) -> tuple[bool, Any]:
    """(True, value) when `obj` is a namedtuple instance made in the sandbox and `attr` one of
    its fields or a public tuple method; (False, None) otherwise."""
    kind = type(obj)
    fields = kind.__dict__.get("_fields") if isinstance(obj, tuple) and kind is not tuple \
        else None
    if isinstance(fields, tuple) and (attr in fields or attr in ("count", "index")):
        return True, getattr(obj, attr)
    return False, None


class ImportsMixin(_Base):
    """`import` and `from ... import` bound to vetted module views."""

    symtable: dict[str, Any]
    _modules: dict[str, ModuleView] | None = None

    def module(self, name: str) -> ModuleView:
        if name not in ALLOWED_MODULES:
            raise _refused(name)
        if self._modules is None:
            self._modules = build_modules(self)
        return self._modules[name]

    def on_import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.module(alias.name)  # refuse before binding anything
            if alias.asname:
                self.symtable[alias.asname] = self.module(alias.name)
            else:
                top = alias.name.split(".", 1)[0]
                self.symtable[top] = self.module(top)

    def on_importfrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            raise ImportError("relative imports are not allowed")
        view = self.module(node.module or "")
        for alias in node.names:
            if alias.name == "*":
                raise ImportError("'from ... import *' is not supported; name what you need")
            try:
                value = view.member(alias.name)
            except AttributeError:
                raise ImportError(f"cannot import name {alias.name!r} from {view.name!r} "
                                  f"(or it is not available in the sandbox)") from None
            self.symtable[alias.asname or alias.name] = value


__all__ = ["MODULE_GUARDS", "MODULE_TYPES", "ImportsMixin", "ModuleView",
           "namedtuple_attribute"]
