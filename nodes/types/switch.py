"""`switch`: named cases, each an expression; the input goes out on the matching case's port
(the first match, or every match with mode "all"), or on `default` when none matches.

Its output ports are the case names plus `default`, so they depend on the config
(`output_ports`); edges name them as `port`.
"""

import re
from typing import Any, Literal

from pydantic import Field, model_validator

from ..base import CONDITION, ERROR_PORT, NodeConfig, NodeType, Outputs, expression_field
from ..context import NodeContext
from ..registry import register

DEFAULT = "default"
CASE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,50}$")


class SwitchCase(NodeConfig):
    name: str = Field(..., description="The output port this case sends to.")
    expression: str = Field(
        ..., min_length=1, description="True when this case matches, e.g. "
        "{{ input.kind == 'refund' }}",
        json_schema_extra=expression_field(format="expression", **CONDITION),
    )


class SwitchConfig(NodeConfig):
    # "x-cases": the editor edits the list as case rows (name and condition) beside raw JSON.
    cases: list[SwitchCase] = Field(
        ..., min_length=1, max_length=50, json_schema_extra={"x-cases": True}
    )
    mode: Literal["first", "all"] = Field(
        "first", description="Send to the first matching case, or to every matching case."
    )

    @model_validator(mode="after")
    def _names(self) -> "SwitchConfig":
        seen: set[str] = set()
        for case in self.cases:
            if not CASE_NAME.match(case.name):
                raise ValueError(f"case name {case.name!r}: use 1-50 letters, digits, _ or -")
            if case.name in (DEFAULT, ERROR_PORT):
                raise ValueError(f"case name {case.name!r} is reserved")
            if case.name in seen:
                raise ValueError(f"duplicate case name {case.name!r}")
            seen.add(case.name)
        return self


@register
class SwitchNode(NodeType):
    type = "switch"
    label = "Switch"
    category = "flow"
    description = "Routes its input to the output of the case whose expression is true."
    icon = "split"
    outputs = [DEFAULT]
    Config = SwitchConfig
    raw_fields = ("cases",)
    timeout = 10.0
    pure = True

    @classmethod
    def output_ports(cls, config: Any) -> list[str]:
        cases = config.get("cases") if isinstance(config, dict) else None
        names = [c["name"] for c in cases or [] if isinstance(c, dict)
                 and isinstance(c.get("name"), str)]
        return [*names, DEFAULT]

    def run(self, ctx: NodeContext, config: SwitchConfig, input: Any) -> Outputs:
        matched: list[str] = []
        for case in config.cases:
            if ctx.evaluate(case.expression):
                matched.append(case.name)
                if config.mode == "first":
                    break
        return Outputs(dict.fromkeys(matched or [DEFAULT], input))
