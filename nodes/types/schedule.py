"""`schedule`: a trigger that starts the workflow on a cron expression or every N seconds.

    {"type": "schedule", "config": {"cron": "0 9 * * 1-5", "timezone": "Europe/Paris"}}
    {"type": "schedule", "config": {"cron": "*/10 * * * * *"}}     # 6 fields: seconds first
    {"type": "schedule", "config": {"interval": 300}}               # every 5 minutes

The scheduler (runs/scheduler.py) asks `ScheduleConfig.latest_due(now)` for the latest due time
and fires each due time once. Intervals are aligned to the Unix epoch (every 300 s = at :00, :05,
…), so every scheduler process computes the same due times. The node's output is the run's
payload: {"scheduled_at", "fired_at", "node", "timezone"}.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from croniter import croniter
from pydantic import Field, field_validator, model_validator

from ..base import NodeConfig, NodeType
from ..context import NodeContext
from ..registry import register


class ScheduleConfig(NodeConfig):
    cron: str | None = Field(
        None,
        description="Cron expression: 5 fields (minute hour day month weekday) or 6 with "
        "seconds first, e.g. '0 9 * * 1-5' or '*/10 * * * * *'.",
    )
    interval: int | None = Field(
        None, ge=1, le=366 * 86400, description="Run every this many seconds (instead of cron)."
    )
    timezone: str = Field("UTC", description="IANA time zone for the cron expression.")

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = " ".join(value.split())
        if len(value.split(" ")) not in (5, 6):
            raise ValueError("a cron expression has 5 fields, or 6 with seconds first")
        if not croniter.is_valid(value, second_at_beginning=True):
            raise ValueError(f"not a valid cron expression: {value!r}")
        return value

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as "
                             "Europe/Paris)") from None
        return value

    @model_validator(mode="after")
    def _one_rule(self) -> ScheduleConfig:
        if (self.cron is None) == (self.interval is None):
            raise ValueError("give either cron or interval")
        return self

    def latest_due(self, now: dt.datetime) -> dt.datetime:
        """The latest due time at or before `now` (aware, UTC)."""
        if self.interval is not None:
            stamp = int(now.timestamp()) // self.interval * self.interval
            return dt.datetime.fromtimestamp(stamp, tz=dt.UTC)
        assert self.cron is not None
        local = now.astimezone(zoneinfo.ZoneInfo(self.timezone))
        # croniter's get_prev is strictly before its start; nudge so `now` itself counts.
        it = croniter(self.cron, local + dt.timedelta(microseconds=1), second_at_beginning=True)
        return it.get_prev(dt.datetime).astimezone(dt.UTC)


@register
class ScheduleNode(NodeType):
    type = "schedule"
    label = "Schedule"
    category = "trigger"
    description = "Starts the workflow on a cron expression or every N seconds, in a time zone."
    icon = "clock"
    inputs = []
    Config = ScheduleConfig
    timeout = 5.0
    pure = True
    is_trigger = True

    def run(self, ctx: NodeContext, config: ScheduleConfig, input: Any) -> Any:
        return input
