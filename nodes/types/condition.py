"""`condition` (if/else): sends its input to `true` or `false` by an expression.

The branch not taken emits nothing, so its nodes (and everything below them with no other live
input) are recorded `skipped`.
"""

from typing import Any

from pydantic import Field

from ..base import CONDITION, NodeConfig, NodeType, Outputs, expression_field
from ..context import NodeContext
from ..registry import register


class ConditionConfig(NodeConfig):
    expression: str = Field(
        ...,
        min_length=1,
        description="True or false, e.g. {{ input.total > 100 }}",
        json_schema_extra=expression_field(format="expression", **CONDITION),
    )


@register
class ConditionNode(NodeType):
    type = "condition"
    label = "If"
    category = "flow"
    description = "Passes its input on `true` or `false` by an expression; the other is skipped."
    icon = "git-branch"
    outputs = ["true", "false"]
    Config = ConditionConfig
    raw_fields = ("expression",)
    timeout = 10.0
    pure = True

    def run(self, ctx: NodeContext, config: ConditionConfig, input: Any) -> Outputs:
        port = "true" if ctx.evaluate(config.expression) else "false"
        return Outputs({port: input})
