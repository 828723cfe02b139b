"""What the engine tells the world outside it, through functions its caller hands it.

    hooks = EngineHooks(start_child=..., after_finish=...)
    execute_run(run_id, hooks=hooks)

The engine sits below the services layer and never imports it: starting a sub-workflow's run,
and what must happen once a run finished (its error workflow, resuming a parent that waits for
it), are services' work. `runs.services.ENGINE_HOOKS` is the set the application uses; it is
installed once at start-up (runs/apps.py) and used by every execution that is not handed
hooks of its own. Without hooks a run still executes; sub-workflow nodes then fail clearly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from decimal import Decimal

    from ..models import Run
    from .metering import Budget


@dataclass(frozen=True)
class EngineHooks:
    """Contract attributes:

    start_child   (workflow=, input=, parent=) -> Run: create a sub-workflow's run, queued and
                  not dispatched (the engine executes it in the parent's thread)
    after_finish  (run, status) -> None: called once a run ended (succeeded, failed,
                  cancelled) by this execution; problems there never change the run
    budget_warning (run, budget, spent) -> None: a node's model calls took this month's spend
                  of a workflow's or project's budget past 80 % of its limit
    """

    start_child: Callable[..., Run] | None = None
    after_finish: Callable[[Run, str], Any] | None = None
    budget_warning: Callable[[Run, Budget, Decimal], Any] | None = None


NO_HOOKS = EngineHooks()
_installed: EngineHooks = NO_HOOKS


def install(hooks: EngineHooks) -> None:
    """Make `hooks` the default of every execution in this process (runs/apps.py)."""
    global _installed
    _installed = hooks


def installed() -> EngineHooks:
    return _installed
