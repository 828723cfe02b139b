"""The one sandbox: `{{ }}` templates, transform expressions and the `code` node's Python.

    evaluate("input.name.upper()", {"input": {"name": "ada"}})       -> "ADA"
    render("Hello {{ input.name }}", {"input": {"name": "ada"}})     -> "Hello ada"
    execute("total = sum(input)\\nresult = total * 2", {"input": [1, 2]}, ...)  -> 6

Built on asteval, with its dangerous surface removed rather than trusted, in four parts:

- `limits`: the bounds (time, sizes built by single operations, total allocation, call and
  AST depth, output size), `SandboxLimit` (a BaseException, so sandboxed `try`/`except`
  cannot swallow it; it surfaces as an `ExpressionError`) and size estimation.
- `guards`: an attribute *allowlist* (dict keys read as attributes, `input.user.name`;
  otherwise only public attributes of plain data types; never `_*`, `str.format`/
  `format_map`, `mro` or frames), guarded versions of methods that allocate in C
  (`ljust`, `replace`, `join`, `to_bytes`, ...), bounded `%` and format widths; `library`:
  the short list of safe builtins (no `open`, `getattr`, `eval`, `exec`, `compile`, `type`,
  `format`, no modules, no import statement); `display`: address-free text for functions,
  methods and iterators (`<function sorted>`, `<method get>`).
- `interpreter`: the `Sandbox` (asteval subclass) with Python's meaning where asteval differs
  (`{**a, "k": 1}`, `[*a, 1]`, `a, *rest = x`, in-place `+=`).
- `templates`: `{{ }}` rendering; `evaluation`: cached parsing and the entry points.

Expressions run in-process (interpreters are reused per thread and parses cached, so an
evaluation costs no set-up); the `code` node runs `execute()` in a worker process with
operating-system limits on top (see `runs.engine.sandbox_process`).
"""

from .display import safe_repr, safe_str
from .evaluation import check_code, evaluate, execute
from .guards import ReadOnlyDict, wrap
from .interpreter import Sandbox
from .limits import (
    DEFAULT_TIMEOUT,
    EXPRESSION_LIMITS,
    MAX_CODE_LENGTH,
    MAX_EXPRESSION_LENGTH,
    ExpressionError,
    Limits,
    SandboxLimit,
    code_limits,
    measure,
)
from .templates import TEMPLATE_RE, WHOLE_TEMPLATE_RE, has_template, render, render_value

__all__ = [
    "DEFAULT_TIMEOUT", "EXPRESSION_LIMITS", "MAX_CODE_LENGTH", "MAX_EXPRESSION_LENGTH",
    "TEMPLATE_RE", "WHOLE_TEMPLATE_RE", "ExpressionError", "Limits", "ReadOnlyDict", "Sandbox",
    "SandboxLimit", "check_code", "code_limits", "evaluate", "execute", "has_template",
    "measure", "render", "render_value", "safe_repr", "safe_str", "wrap",
]
