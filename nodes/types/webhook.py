"""`webhook`: the trigger. Its output is the payload the run was started with. Its optional
`input_schema` declares that payload's shape: an agent offering the workflow as a tool sends it
to the model as the tool's parameters (nodes/types/agent.py)."""

from typing import Any

from pydantic import Field, field_validator

from ..ai.structured import schema_problem
from ..base import NodeConfig, NodeType
from ..context import NodeContext
from ..registry import register


class WebhookConfig(NodeConfig):
    description: str = Field("", description="What callers send here (shown in the editor).")
    input_schema: dict[str, Any] | None = Field(
        None, description="A JSON Schema of the payload: what an agent calling this workflow "
                          "as a tool must send (its arguments).")

    @field_validator("input_schema")
    @classmethod
    def _schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        problem = schema_problem(value) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value


@register
class WebhookNode(NodeType):
    type = "webhook"
    label = "Webhook"
    category = "trigger"
    description = "Starts the workflow when its URL receives a POST; passes the payload on."
    icon = "webhook"
    inputs = []
    Config = WebhookConfig
    timeout = 5.0
    pure = True
    is_trigger = True
    raw_fields = ("input_schema",)

    def run(self, ctx: NodeContext, config: WebhookConfig, input: Any) -> Any:
        return input
