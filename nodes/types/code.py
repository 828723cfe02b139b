"""`code`: run multi-line Python or JavaScript in a sandbox, in a worker process with OS
limits.

Both languages see the names `input`, `nodes`, `run`, `trigger`, `now` and `vars` (JSON
values).
Python (`language: "python"`, the default): dict keys also read as attributes; the code may
define functions, loop, raise and catch exceptions and import a vetted standard library
(json, re, math, datetime, decimal, statistics, itertools, collections, hashlib, base64, uuid,
random, string, textwrap, urllib.parse); its output is the variable `result` when set,
otherwise the value of the last line when that is an expression (`sum(input)`), otherwise
null. JavaScript (`language: "javascript"`, V8): the code is a function body, as in n8n's Code
node: `return` gives the output (or a variable `result`). No files, no network, no host;
time (`timeout`, default WFAIB_CODE_TIMEOUT), memory (WFAIB_CODE_MEMORY_MB,
WFAIB_CODE_JS_MEMORY_MB) and sizes are bounded; a failure names the line.
"""

import ast
from typing import Any, Literal

from pydantic import Field, model_validator

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
    language: Literal["python", "javascript"] = Field(
        "python",
        description="The language of `code`: Python (sandboxed, with a safe standard "
                    "library) or JavaScript (V8; `return` the output).",
    )
    code: str = Field(
        ...,
        min_length=1,
        max_length=MAX_CODE_LENGTH,
        description="Python: set `result` (or end with an expression) to output a value. "
                    "JavaScript: a function body; `return` the output.",
        json_schema_extra={"format": "code", "x-language": "python"},
    )
    timeout: float | None = Field(
        None, gt=0, le=300,
        description="Seconds before the code is stopped (default: server setting; never more "
                    "than the server's WFAIB_MAX_NODE_TIMEOUT)."
    )

    @model_validator(mode="after")
    def _parses(self) -> "CodeConfig":
        # JavaScript is parsed by V8 when it runs (a syntax error names its line then).
        problem = syntax_problem(self.code) if self.language == "python" else None
        if problem:
            raise ValueError(f"code: {problem}")
        return self


@register
class CodeNode(NodeType):
    type = "code"
    label = "Code"
    category = "data"
    description = "Runs sandboxed Python or JavaScript on the input and outputs its result."
    icon = "code"
    Config = CodeConfig
    raw_fields = ("code",)
    timeout = 300.0
    pure = True
    long_running = True  # a cancellation interrupts it (the engine stops waiting for it)
    version = 2  # 2: `language` (python | javascript)

    @classmethod
    def migrate_config(cls, old_version: int, config: dict[str, Any]) -> dict[str, Any]:
        if old_version == 1:  # version 1 ran Python only
            config.setdefault("language", "python")
        return config

    def run(self, ctx: NodeContext, config: CodeConfig, input: Any) -> Any:
        names = {name: ctx.names.get(name) for name in NAMES}
        names["input"] = input
        return ctx.run_code(config.code, names, timeout=config.timeout,
                            language=config.language)
