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

    @contextlib.contextmanager
    def execution(self, run: Run) -> Iterator[None]:
        with self._all("execution", run):
            yield

    @contextlib.contextmanager
    def node(self, run: Run, node_id: str, node_type: str) -> Iterator[None]:
        with self._all("node", run, node_id, node_type):
            yield

    @contextlib.contextmanager
    def _all(self, what: str, *args: Any) -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            for one in list(self.installed):
                try:
                    stack.enter_context(_guarded(getattr(one, what)(*args), one))
                except Exception:
                    logger.exception("observer %r failed to start %s", one, what)
            yield

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


@contextlib.contextmanager
def _guarded(manager: contextlib.AbstractContextManager[Any], one: Observer) -> Iterator[None]:
    """Enter an observer's context manager; its own failure on exit is logged, while the
    engine's exception passing through it is re-raised unchanged."""
    manager.__enter__()
    try:
        yield
    except BaseException as exc:
        try:
            manager.__exit__(type(exc), exc, exc.__traceback__)
        except Exception as own:
            if own is not exc:
                logger.exception("observer %r failed", one)
        raise
    else:
        try:
            manager.__exit__(None, None, None)
        except Exception:
            logger.exception("observer %r failed", one)


observer = _Fanout()


def install(one: Observer) -> Observer:
    """Add an observer (once: installing the same object again does nothing)."""
    if one not in observer.installed:
        observer.installed.append(one)
    return one


def uninstall(one: Observer) -> None:
    with contextlib.suppress(ValueError):
        observer.installed.remove(one)
