"""`transform`: reshape data with sandboxed expressions.

`expression` returns any value; `mapping` ({key: expression}) builds an object. When both are
given, the mapping is applied to the expression's result (available as `value`).
"""

from typing import Any

from pydantic import Field, model_validator

from ..base import NodeConfig, NodeError, NodeType, expression_field
from ..context import NodeContext
from ..registry import register


class TransformConfig(NodeConfig):
    expression: str | None = Field(
        None,
        description="An expression, e.g. {{ input.items[0].name.upper() }}",
        json_schema_extra=expression_field(format="expression"),
    )
    mapping: dict[str, str] | None = Field(
        None,
        description="Output keys and the expression that computes each, e.g. {{ input.id }}.",
        json_schema_extra=expression_field(format="expression-map"),
    )

    @model_validator(mode="after")
    def _one_needed(self) -> "TransformConfig":
        if not self.expression and not self.mapping:
            raise ValueError("give an expression or a mapping")
        return self


@register
class TransformNode(NodeType):
    type = "transform"
    label = "Transform"
    category = "core"
    description = "Computes a new value from the input with expressions or a key mapping."
    icon = "shuffle"
    Config = TransformConfig
    raw_fields = ("expression", "mapping")
    timeout = 10.0
    pure = True

    def run(self, ctx: NodeContext, config: TransformConfig, input: Any) -> Any:
        value = input
        if config.expression:
            value = ctx.evaluate(config.expression)
        if config.mapping:
            extra = {"value": value}
            result = {}
            for key, expr in config.mapping.items():
                if not isinstance(expr, str):
                    raise NodeError(f"mapping[{key!r}] must be an expression string")
                result[key] = ctx.evaluate(expr, extra)
            value = result
        return value
