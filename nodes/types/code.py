"""`code`: run multi-line Python in the sandbox, in a worker process with OS limits.

The code sees the names `input`, `nodes`, `run`, `trigger`, `now` and `vars` (JSON values;
dict keys also read as attributes) and may define functions, loop, and raise and catch
exceptions. Its output is the variable `result` when the code sets it, otherwise the value
of the last line when that is an expression (`sum(input)`), otherwise null. No imports, no
files, no network; time (`timeout`, default WFAIB_CODE_TIMEOUT), memory
(WFAIB_CODE_MEMORY_MB) and sizes are bounded; a failure names the line.
"""

import ast
from typing import Any

from pydantic import Field, field_validator

from ..base import NodeConfig, NodeType
from ..context import NodeContext
from ..registry import register

NAMES = ("input", "nodes", "run", "trigger", "now", "vars")
MAX_CODE_LENGTH = 200_000


def syntax_problem(code: str) -> str | None:
    """Why `code` is not Python ("line 3: syntax error: ..."), or None. The sandbox refuses
    what it does not run (imports, too deep nesting) with a clear error when the node runs."""
    try:
        ast.parse(code)
    except SyntaxError as exc:
        return f"line {exc.lineno}: syntax error: {exc.msg}" if exc.lineno \
            else f"syntax error: {exc.msg}"
    except (RecursionError, MemoryError, ValueError):
        return "syntax error: nested too deeply"
    return None


class CodeConfig(NodeConfig):
    code: str = Field(
        ...,
        min_length=1,
        max_length=MAX_CODE_LENGTH,
        description="Python; set `result` (or end with an expression) to output a value.",
        json_schema_extra={"format": "code", "x-language": "python"},
    )
    timeout: float | None = Field(
        None, gt=0, le=300,
        description="Seconds before the code is stopped (default: server setting; never more "
                    "than the server's WFAIB_MAX_NODE_TIMEOUT)."
    )

    @field_validator("code")
    @classmethod
    def _parses(cls, value: str) -> str:
        problem = syntax_problem(value)
        if problem:
            raise ValueError(problem)
        return value


@register
class CodeNode(NodeType):
    type = "code"
    label = "Code"
    category = "data"
    description = "Runs sandboxed Python on the input and outputs `result`."
    icon = "code"
    Config = CodeConfig
    raw_fields = ("code",)
    timeout = 300.0
    pure = True
    long_running = True  # a cancellation interrupts it (the engine stops waiting for it)

    def run(self, ctx: NodeContext, config: CodeConfig, input: Any) -> Any:
        names = {name: ctx.names.get(name) for name in NAMES}
        names["input"] = input
        return ctx.run_code(config.code, names, timeout=config.timeout)
