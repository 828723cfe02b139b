"""`try` / `except` / `else` / `finally` in the code node, with safe exceptions.

    try:
        x = 1 / 0
    except ZeroDivisionError as e:    # e: a fresh ZeroDivisionError with a bounded message
        x = 0

A mixin of `Sandbox` (see `interpreter`); `{{ }}` expressions have no `try` (the handler is
removed for them).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

from .guards import handles, make_exception, safe_exc_type_from

if TYPE_CHECKING:
    from .asteval_import import Interpreter as _Base
else:
    _Base = object


class ExceptionsMixin(_Base):
    error: list[Any]  # asteval's state, as Sandbox declares it
    error_msg: str | None

    def on_try(self, node):
        # asteval's version binds the original exception (which may carry internal objects,
        # e.g. AttributeError.obj) and resolves handler names in real builtins; ours binds a
        # fresh exception with a bounded message and resolves handlers in the symbol table.
        failed = False
        for stmt in node.body:
            self.run(stmt, with_raise=False)
            if self.error:
                failed = True
                if not self._handle(node.handlers):
                    return
                break
        if not failed:
            for stmt in node.orelse:
                self.run(stmt)
        for stmt in node.finalbody:
            self.run(stmt)

    def _handle(self, handlers: list[ast.ExceptHandler]) -> bool:
        """Run the first handler matching the recorded error; False when a handler's type
        expression itself failed."""
        err = self.error[-1]
        exc_type = safe_exc_type_from(err.exc)
        message = str(err.msg)[:500]
        errors, error_msg = self.error, self.error_msg
        for handler in handlers:
            self.error, self.error_msg = [], None  # so the handler type evaluates
            wanted = self.run(handler.type) if handler.type is not None else Exception
            if self.error:  # the handler's type expression itself failed
                return False
            self.error, self.error_msg = errors, error_msg
            if handles(wanted, exc_type):
                self.error = []
                self.error_msg = None
                self._interrupt = None
                if handler.name is not None:
                    self.symtable[handler.name] = make_exception(exc_type, message)
                for line in handler.body:
                    self.run(line)
                break
        return True
