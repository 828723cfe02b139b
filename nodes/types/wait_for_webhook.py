"""`wait_for_webhook`: pauses the run until its unique resume URL is called.

POST /api/resume/<token> resumes it; the call's JSON body becomes the node's output (on `main`).
With `max_wait`, the run resumes by itself after that many seconds and the node's input leaves
by `timeout` instead. Earlier nodes can send the URL with `{{ run.resume_urls.<node id> }}`;
the node's waiting log shows it too.
"""

import datetime as dt
from typing import Any

from pydantic import Field

from ..base import NodeConfig, NodeType, Wait
from ..context import NodeContext
from ..registry import register


class WaitForWebhookConfig(NodeConfig):
    max_wait: float | None = Field(
        None, gt=0, le=366 * 86400,
        description="Seconds to wait for the call; then the input leaves by `timeout`.",
    )


@register
class WaitForWebhookNode(NodeType):
    type = "wait_for_webhook"
    label = "Wait for webhook"
    category = "flow"
    description = "Pauses until its resume URL is called; the call's body becomes the output."
    icon = "pause"
    outputs = ["main", "timeout"]
    Config = WaitForWebhookConfig
    suspends = True
    external_resume = True  # the engine lists its URL in `run.resume_urls`
    timeout = 10.0
    pure = True

    def run(self, ctx: NodeContext, config: WaitForWebhookConfig, input: Any) -> Wait:
        resume_at = None
        if config.max_wait:
            resume_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=config.max_wait)
        return Wait(resume_at=resume_at, token=ctx.resume_token(), output=input,
                    timeout_port="timeout" if config.max_wait else None,
                    extra={"resume_url": ctx.resume_url()})
