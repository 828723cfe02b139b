"""`code`: run multi-line Python in the sandbox, in a worker process with OS limits.

The code sees the names `input`, `nodes`, `run`, `trigger` and `now` (JSON values; dict keys
also read as attributes) and may define functions, loop, and raise and catch exceptions. Its
output is the variable `result` when the code sets it, otherwise the value of the last line
when that is an expression (`sum(input)`), otherwise null. No imports, no files, no network;
time (`timeout`, default WFAIB_CODE_TIMEOUT), memory (WFAIB_CODE_MEMORY_MB) and sizes are
bounded; a failure names the line.
"""

from typing import Any

from pydantic import Field, field_validator

from runs.engine.expressions import check_code
from runs.engine.sandbox_process import CodeError, run_code

from ..base import NodeConfig, NodeError, NodeType
from ..registry import register

NAMES = ("input", "nodes", "run", "trigger", "now")


class CodeConfig(NodeConfig):
    code: str = Field(
        ...,
        min_length=1,
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
        problem = check_code(value)
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

    def run(self, ctx: Any, config: CodeConfig, input: Any) -> Any:  # noqa: A002
        names = {name: ctx.names.get(name) for name in NAMES}
        names["input"] = input
        try:
            return run_code(config.code, names, timeout=config.timeout,
                            tenant=ctx.services.get("tenant"))
        except CodeError as exc:
            raise NodeError(str(exc)) from None
