"""`respond`: sets the HTTP answer for the webhook call that started the run.

The answer ({status, headers, body}) is stored on the run at once, so a synchronous webhook
caller gets it while the run goes on. The first respond node of a run wins; the node passes its
input on unchanged.
"""

from typing import Any

from pydantic import Field, field_validator

from ..base import NodeConfig, NodeError, NodeType, expression_field
from ..context import NodeContext
from ..registry import register


class RespondConfig(NodeConfig):
    status: int | str = Field(200, description="HTTP status (100-599) or an expression.",
                              json_schema_extra=expression_field())
    headers: dict[str, str] = Field(default_factory=dict, json_schema_extra=expression_field())
    body: Any = Field("{{ input }}", description="The response body (JSON).",
                      json_schema_extra=expression_field(format="json"))

    @field_validator("status")
    @classmethod
    def _status(cls, value: int | str) -> int | str:
        if isinstance(value, str) and "{{" in value:
            return value  # rendered at run time, checked again then
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValueError("must be an HTTP status between 100 and 599") from None
        if not 100 <= number <= 599:
            raise ValueError("must be an HTTP status between 100 and 599")
        return number


@register
class RespondNode(NodeType):
    type = "respond"
    label = "Respond to webhook"
    category = "flow"
    description = "Sets the webhook's HTTP response now; the run may go on afterwards."
    icon = "reply"
    Config = RespondConfig
    inline_only = True  # writes the run's response from the engine's thread
    timeout = 10.0

    def run(self, ctx: NodeContext, config: RespondConfig, input: Any) -> Any:  # noqa: A002
        if not isinstance(config.status, int):
            raise NodeError(f"status {config.status!r} is not an HTTP status")
        ctx.respond(status=config.status, headers=config.headers, body=config.body)
        return input
