"""An example node package: importing it registers the `example_greet` node type."""

from typing import Any

from pydantic import Field

from nodes.base import NodeConfig, NodeType, expression_field
from nodes.context import NodeContext
from nodes.registry import register


class GreetConfig(NodeConfig):
    greeting: str = Field("Hello", description="The word to greet with.",
                          json_schema_extra=expression_field())
    shout: bool = Field(False, description="Upper-case the greeting.")


@register
class GreetNode(NodeType):
    type = "example_greet"
    label = "Greet (example package)"
    category = "data"
    description = "Greets the input's name: an example of a node from an installed package."
    icon = "smile"
    Config = GreetConfig
    pure = True

    def run(self, ctx: NodeContext, config: GreetConfig, input: Any) -> Any:
        name = ctx.evaluate("input.name if isinstance(input, dict) else str(input)")
        text = f"{config.greeting}, {name}!"
        return {"greeting": text.upper() if config.shout else text}
