"""`webhook`: the trigger. Its output is the payload the run was started with."""

from typing import Any

from pydantic import Field

from ..base import NodeConfig, NodeType
from ..context import NodeContext
from ..registry import register


class WebhookConfig(NodeConfig):
    description: str = Field("", description="What callers send here (shown in the editor).")


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

    def run(self, ctx: NodeContext, config: WebhookConfig, input: Any) -> Any:
        return input
