"""`delay`: waits a number of seconds or until a time, then passes its input on.

The run becomes `waiting` with a `resume_at`; no thread or worker is held, and the wait survives
restarts (the scheduler re-queues the run when the time comes).
"""

import datetime as dt
from typing import Any

from pydantic import Field, model_validator

from ..base import NodeConfig, NodeError, NodeType, Wait, expression_field
from ..context import NodeContext
from ..registry import register


class DelayConfig(NodeConfig):
    seconds: float | None = Field(None, ge=0, le=366 * 86400, description="How long to wait.")
    until: str | None = Field(
        None,
        description="An ISO 8601 time to wait for (UTC when no offset is given).",
        json_schema_extra=expression_field(format="date-time"),
    )

    @model_validator(mode="after")
    def _one(self) -> "DelayConfig":
        if (self.seconds is None) == (self.until is None):
            raise ValueError("give seconds or until (one of them)")
        if self.until is not None and "{{" not in self.until:
            _parse(self.until)
        return self


def _parse(text: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"until: {text!r} is not an ISO 8601 time") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


@register
class DelayNode(NodeType):
    type = "delay"
    label = "Delay"
    category = "flow"
    description = "Waits a duration or until a time (the run waits without holding a worker)."
    icon = "clock"
    Config = DelayConfig
    suspends = True
    timeout = 10.0
    pure = True

    def run(self, ctx: NodeContext, config: DelayConfig, input: Any) -> Any:
        now = dt.datetime.now(dt.UTC)
        try:
            when = _parse(config.until) if config.until else now + dt.timedelta(
                seconds=config.seconds or 0)
        except ValueError as exc:
            raise NodeError(str(exc)) from None
        if when <= now:
            return input
        return Wait(resume_at=when, output=input)
