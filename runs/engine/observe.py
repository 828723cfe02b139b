"""The engine's one observation point: metrics, traces and log context hang here.

    observe.install(MyObserver())            # runs/apps.py, at start-up (or a test)
    with observer.execution(run):            # executor.py: one execution pass of a run
        with observer.node(run, node_id, node_type):   # attempts.py: one attempt of a node
            ...
    observer.run_ended(run, status)          # executor.py: the run finished (not parked)
    observer.model_calls(run, node_id, entries)   # usage.py: model calls written to the ledger
    observer.outbound_headers(headers)       # outbound.py: e.g. the W3C traceparent

The engine calls `observer` only, never a metrics or tracing library: the observers that
`wfaib.metrics`, `wfaib.tracing` and `wfaib.logs` provide are installed into it. An observer
that raises never changes a run: its errors are logged and swallowed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nodes.context import ModelUsage

    from ..models import Run

logger = logging.getLogger("wfaib.engine")


class Observer:
    """What an observer may implement (each is a no-op here):

    execution(run)                       context manager around one execution pass
    node(run, node_id, node_type)        context manager around one node attempt; an
                                         exception leaving it is that attempt's failure
    run_ended(run, status)               once per finished run (succeeded/failed/cancelled)
    model_calls(run, node_id, entries)   the model calls of one node attempt, as the ledger
                                         records them (nodes.context.ModelUsage each)
    outbound_headers(headers)            add headers to a node's outbound HTTP request
    """

    @contextlib.contextmanager
    def execution(self, run: Run) -> Iterator[None]:
        yield

    @contextlib.contextmanager
    def node(self, run: Run, node_id: str, node_type: str) -> Iterator[None]:
        yield

    def run_ended(self, run: Run, status: str) -> None:
        return None

    def model_calls(self, run: Run, node_id: str, entries: Sequence[ModelUsage]) -> None:
        return None

    def outbound_headers(self, headers: MutableMapping[str, str]) -> None:
        return None


class _Fanout(Observer):
    """Every installed observer, in installation order."""

    def __init__(self) -> None:
        self.installed: list[Observer] = []

    def execution(self, run: Run) -> _Entered:  # type: ignore[override]
        return _Entered(self.installed, "execution", (run,))

    def node(self, run: Run, node_id: str,  # type: ignore[override]
             node_type: str) -> _Entered:
        # Called for every node attempt: a plain class, not generator-based context managers
        # (an ExitStack and a guard per observer cost more than a cheap node itself).
        return _Entered(self.installed, "node", (run, node_id, node_type))

    def run_ended(self, run: Run, status: str) -> None:
        for one in list(self.installed):
            try:
                one.run_ended(run, status)
            except Exception:
                logger.exception("observer %r failed on run_ended", one)

    def model_calls(self, run: Run, node_id: str, entries: Sequence[ModelUsage]) -> None:
        for one in list(self.installed):
            try:
                one.model_calls(run, node_id, entries)
            except Exception:
                logger.exception("observer %r failed on model_calls", one)

    def outbound_headers(self, headers: MutableMapping[str, str]) -> None:
        for one in list(self.installed):
            try:
                one.outbound_headers(headers)
            except Exception:
                logger.exception("observer %r failed on outbound_headers", one)


class _Entered:
    """Every installed observer's context manager for `what`, entered in installation order and
    left in reverse. An observer failing to enter is logged and skipped; its own failure on
    exit is logged, while the engine's exception passing through is re-raised unchanged (an
    observer never swallows it)."""

    __slots__ = ("args", "entered", "observers", "what")

    def __init__(self, observers: list[Observer], what: str, args: tuple[Any, ...]):
        self.observers, self.what, self.args = tuple(observers), what, args
        self.entered: list[tuple[Observer, contextlib.AbstractContextManager[Any]]] = []

    def __enter__(self) -> None:
        for one in self.observers:
            try:
                manager = getattr(one, self.what)(*self.args)
                manager.__enter__()
            except Exception:
                logger.exception("observer %r failed to start %s", one, self.what)
                continue
            self.entered.append((one, manager))

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: Any) -> None:
        while self.entered:
            one, manager = self.entered.pop()
            try:
                manager.__exit__(kind, exc, tb)
            except Exception as own:
                if own is not exc:
                    logger.exception("observer %r failed", one)
        # returning None: the engine's exception, if any, goes on unchanged


observer = _Fanout()


def install(one: Observer) -> Observer:
    """Add an observer (once: installing the same object again does nothing)."""
    if one not in observer.installed:
        observer.installed.append(one)
    return one


def uninstall(one: Observer) -> None:
    with contextlib.suppress(ValueError):
        observer.installed.remove(one)
