"""One node attempt's model calls, as the engine sees them: the budget check before each call,
the usage (with its estimated cost) after it, and the partial output of a streamed answer.

    meter = UsageMeter(budgets=load_budgets(run), publish=partial_sink)
    ctx = EngineContext(..., meter=meter)
    ...                                  # the node calls ctx.check_budget / record_usage
    meter.entries                        # what the attempt spent; the engine writes it
    meter.crossed()                      # budgets this attempt took past WARN_AT of their limit

The meter holds no connection and writes nothing: a node runs in a worker thread that must
not touch the database, so the engine loads the budgets before the attempt (in its own
thread) and records `entries` after it. Budgets are checked against the month's spend as it
was loaded plus this attempt's own calls; runs going on at the same time can together pass a
limit by what they spend meanwhile.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from nodes.base import NodeError
from nodes.context import ModelUsage

from .pricing import cost

WARN_AT = Decimal("0.8")  # a budget warning when the month's spend reaches 80 % of the limit


@dataclass(frozen=True)
class Budget:
    """A monthly limit of a workflow or a project and what was spent this month before."""

    scope: str  # "workflow" or "project"
    object_id: int
    name: str
    kind: str  # "tokens" or "cost" (USD)
    limit: Decimal
    used: Decimal

    def amount(self, value: Decimal) -> str:
        return f"${value:,.4f}" if self.kind == "cost" else f"{int(value):,} tokens"

    def describe(self) -> str:
        return f"the {self.scope} {self.name!r}'s monthly {self.kind} budget " \
               f"({self.amount(self.limit)})"


def _spent(entry: ModelUsage, kind: str) -> Decimal:
    if kind == "tokens":
        return Decimal(entry["prompt_tokens"] + entry["completion_tokens"])
    return Decimal(str(entry["cost"] or 0))


class UsageMeter:
    def __init__(self, *, budgets: Sequence[Budget] = (),
                 publish: Callable[[str], None] | None = None, interval: float = 0.5):
        self.budgets = tuple(budgets)
        self.entries: list[ModelUsage] = []
        self._publish = publish
        self._interval = interval
        self._last_publish: float | None = None
        self.published = False  # whether any partial output went out
        self._lock = threading.Lock()

    def spent(self, kind: str) -> Decimal:
        with self._lock:
            return sum((_spent(e, kind) for e in self.entries), Decimal(0))

    def check(self, *, model: str, prompt_tokens: int, completion_tokens: int) -> None:
        estimate = ModelUsage(provider="", model=model, prompt_tokens=max(prompt_tokens, 0),
                              completion_tokens=max(completion_tokens, 0), cached_tokens=0,
                              cost=None)
        priced = cost(model, prompt_tokens=estimate["prompt_tokens"],
                      completion_tokens=estimate["completion_tokens"])
        estimate["cost"] = float(priced) if priced is not None else None
        for budget in self.budgets:
            so_far = budget.used + self.spent(budget.kind)
            projected = so_far + _spent(estimate, budget.kind)
            if so_far >= budget.limit or projected > budget.limit:
                raise NodeError(
                    f"{budget.describe()} would be exceeded: {budget.amount(so_far)} spent "
                    f"this month, and this call may take up to "
                    f"{budget.amount(projected - so_far)}; the call was not made")

    def record(self, usage: ModelUsage) -> ModelUsage:
        priced = cost(usage["model"], prompt_tokens=usage["prompt_tokens"],
                      completion_tokens=usage["completion_tokens"],
                      cached_tokens=usage["cached_tokens"])
        entry = ModelUsage(provider=usage["provider"], model=usage["model"],
                           prompt_tokens=int(usage["prompt_tokens"]),
                           completion_tokens=int(usage["completion_tokens"]),
                           cached_tokens=int(usage["cached_tokens"]),
                           cost=float(priced) if priced is not None else None)
        with self._lock:
            self.entries.append(entry)
        return entry

    def take(self) -> list[ModelUsage]:
        """The entries not handed out yet (the engine records them once)."""
        with self._lock:
            taken, self.entries = self.entries, []
        return taken

    def crossed(self, entries: Sequence[ModelUsage]) -> list[tuple[Budget, Decimal]]:
        """Budgets that `entries` took from below WARN_AT of their limit to at or above it,
        with the spend after them."""
        found = []
        for budget in self.budgets:
            after = budget.used + sum((_spent(e, budget.kind) for e in entries), Decimal(0))
            threshold = budget.limit * WARN_AT
            if budget.used < threshold <= after:
                found.append((budget, after))
        return found

    def partial(self, text: str) -> None:
        if self._publish is None:
            return
        now = time.monotonic()
        if self._last_publish is not None and now - self._last_publish < self._interval:
            return
        self._last_publish = now
        self.published = True
        self._publish(text)
