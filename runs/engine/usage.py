"""The engine's side of model calls: a meter for each attempt of a node that calls models, and
the ledger written from what it recorded.

    usage = RunUsage(execution)
    meter = usage.meter(frame, cls)          # before the attempt, in the engine's thread
    ...                                      # the node runs (its own thread): ctx.record_usage
    usage.settle(frame, log, meter)          # after it: log.usage, ModelCall rows, run totals

Nodes run in worker threads that must not touch the database, and loop iterations may run in
threads of their own: the ledger is written by the thread that owns the run (a threaded loop
iteration's calls wait in a backlog until its loop hands them over, `flush`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from nodes.base import NodeType
from nodes.context import ModelUsage
from wfaib.conf import wfaib_settings

from . import partial
from .budgets import load_budgets
from .metering import Budget, UsageMeter
from .observe import observer
from .state import Frame

if TYPE_CHECKING:
    from ..models import RunLog
    from .executor import RunExecution

logger = logging.getLogger("wfaib.engine")
Settled = tuple[str, str, int, list[ModelUsage], list[tuple[Budget, Decimal]]]


def summary(entries: list[ModelUsage]) -> dict[str, Any]:
    """An attempt's calls summed, as stored on its RunLog."""
    costs = [e["cost"] for e in entries]
    return {
        "calls": len(entries),
        "prompt_tokens": sum(e["prompt_tokens"] for e in entries),
        "completion_tokens": sum(e["completion_tokens"] for e in entries),
        "cached_tokens": sum(e["cached_tokens"] for e in entries),
        "cost": None if all(c is None for c in costs) else
        float(sum((Decimal(str(c)) for c in costs if c is not None), Decimal(0))),
    }


class RunUsage:
    def __init__(self, ex: RunExecution):
        self.ex = ex
        self.lock = threading.Lock()
        self.backlog: list[Settled] = []
        # The budgets as last loaded, and what this run spent since (for threaded loop
        # iterations, which may not read the database).
        self.budgets: list[Budget] | None = None
        self.interval = float(wfaib_settings.LLM_STREAM_INTERVAL)  # read per run, not per node
        self.since: dict[str, Decimal] = {"tokens": Decimal(0), "cost": Decimal(0)}

    def load(self) -> None:
        """(Re)load the budgets and the month's spend (from the thread that owns the run)."""
        self.budgets = load_budgets(self.ex.run)
        with self.lock:
            self.since = {"tokens": Decimal(0), "cost": Decimal(0)}

    def meter(self, frame: Frame, cls: type[NodeType], node_id: str) -> UsageMeter:
        """A meter for one attempt; budgets are loaded only for types that call models
        (`uses_models`): fresh in the run's thread, as last loaded in a loop's thread. Its
        partial output goes to the cache for the run viewer (runs/engine/partial.py)."""
        budgets: list[Budget] = []
        if cls.uses_models:
            if not frame.threaded:
                self.load()
            with self.lock:
                budgets = [replace(b, used=b.used + self.since[b.kind])
                           for b in self.budgets or []]
        run_id, scope, shown = self.ex.run.pk, frame.scope, self.ex.credentials.scrub_stream
        # Shown while the node works: no known secret, not even its first characters.
        return UsageMeter(budgets=budgets, interval=self.interval,
                          publish=lambda text: partial.publish(run_id, node_id, scope,
                                                               shown(text)))

    def settle(self, frame: Frame, log: RunLog, meter: UsageMeter) -> None:
        """After an attempt (whatever its outcome): its partial output dropped (the log holds
        the output), what it spent on its log and in the ledger (now, or from the backlog when
        this thread must not write)."""
        if meter.published:
            partial.clear(self.ex.run.pk, log.node_id)
        entries = meter.take()
        if not entries:
            return
        log.usage = summary(entries)
        item: Settled = (log.node_id, log.scope, log.attempt, entries, meter.crossed(entries))
        with self.lock:
            for kind in self.since:
                self.since[kind] += sum((Decimal(e["prompt_tokens"] + e["completion_tokens"])
                                         if kind == "tokens" else Decimal(str(e["cost"] or 0))
                                         for e in entries), Decimal(0))
        if frame.threaded:
            with self.lock:
                self.backlog.append(item)
            return
        self.flush()
        self._write(item)

    def flush(self) -> None:
        """Write the backlog (from the thread that owns the run)."""
        with self.lock:
            items, self.backlog = self.backlog, []
        for item in items:
            self._write(item)

    def _write(self, item: Settled) -> None:
        node_id, scope, attempt, entries, crossed = item
        self.ex.journal.record_usage(node_id=node_id, scope=scope, attempt=attempt,
                                     entries=entries)
        observer.model_calls(self.ex.run, node_id, entries)  # metrics: tokens and cost
        warn = self.ex.hooks.budget_warning
        for budget, spent in crossed:
            if warn is None:
                continue
            try:
                warn(self.ex.run, budget, spent)
            except Exception:  # a warning never changes the run
                logger.exception("run %s: the budget warning failed", self.ex.run.pk)
