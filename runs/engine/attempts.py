"""Running one node: its settings, attempts with retries, timeout, cancellation, on_error.

    run_node(execution, frame, node_id, node, cls, input_value)

Each attempt renders the node's config (expressions), calls the node's `run()` (in a watched
thread when it has a timeout, so a cancellation or the timeout interrupts the wait) and records
one RunLog through the execution. A failed last attempt stops the run, continues with the error
as the output, or routes it to the node's `error` port (NodeSettings.on_error).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError as PydanticValidationError

from nodes.base import ERROR_PORT, Iterate, NodeError, NodeSettings, NodeType, Outputs, Wait
from nodes.config_fields import text_paths
from nodes.versions import node_config
from workflows.graph import DEFAULT_PORT

from ..models import RunLog
from ..tenancy import tenant_of
from . import memory_buffer
from .clock import now as clock_now
from .context import NodeContext
from .expressions import ExpressionError, evaluate, render_value
from .expressions.templates import stringify
from .journal import CANCEL_CHECK_INTERVAL
from .log_rows import new_log
from .loops import run_loop
from .metering import UsageMeter
from .observe import observer
from .policies import call_with_timeout, retry_delay
from .state import (
    BodyFailure,
    Frame,
    NodeState,
    ParkForRetry,
    RunCancelled,
    failure_message,
    first_port,
    jsonable,
    log_copy,
)
from .wait_record import WaitRecord

if TYPE_CHECKING:
    from .executor import RunExecution


# What a node without `settings` gets: one instance for all (NodeSettings is frozen).
_NO_SETTINGS = NodeSettings.model_validate({})


def node_settings(ex: RunExecution, node_id: str) -> NodeSettings:
    found = ex.node_settings.get(node_id)
    if found is None:
        raw = ex.graph.nodes[node_id].get("settings")
        if not raw:
            ex.node_settings[node_id] = _NO_SETTINGS
            return _NO_SETTINGS
        try:
            found = NodeSettings.model_validate(raw)
        except PydanticValidationError as exc:
            raise NodeError(f"node {node_id!r}: invalid settings: {exc}",
                            node_id=node_id) from None
        ex.node_settings[node_id] = found
    return found


def _next_attempt(ex: RunExecution, scope: str, node_id: str) -> int:
    with ex.attempts_lock:
        attempt = ex.attempts.get((scope, node_id), 0) + 1
        ex.attempts[(scope, node_id)] = attempt
    return attempt


def run_node(ex: RunExecution, frame: Frame, node_id: str, node: dict, cls: type[NodeType],
             input_value: Any) -> None:
    """Run a node with its settings: attempts, then on_error. Records one log per attempt."""
    settings = node_settings(ex, node_id)
    names = ex.names(frame, input_value)
    # Side effects at the top level get a `started` row first (crash safety). Loop bodies
    # are re-run as a whole after a crash, so their logs are only buffered.
    durable = not cls.pure and frame.owner is None
    while True:
        attempt = _next_attempt(ex, frame.scope, node_id)
        t0 = time.perf_counter()
        log = new_log(ex.run, node_id=node_id, node_type=node["type"], attempt=attempt,
                      scope=frame.scope, started_at=clock_now(),
                      input=log_copy(input_value, ex.log_max))
        if durable:
            ex.journal.start(log)
        meter = ex.usage.meter(frame, cls, node_id)
        try:
            with observer.node(ex.run, node_id, node["type"]):  # metrics, span, log context
                try:
                    result = _attempt(ex, frame, node_id, node, cls, settings, names,
                                      input_value, attempt, meter)
                finally:  # model calls cost money whatever became of the attempt
                    ex.usage.settle(frame, log, meter)
        except RunCancelled:
            log.status, log.error = RunLog.Status.FAILED, "cancelled by request"
            ex.record(frame, log, t0, cls)
            raise
        except Exception as exc:  # any node failure becomes a failed attempt with its reason
            # a secret the run knows never reaches a message, a log or the error output
            message = ex.credentials.scrub(failure_message(exc))
            details = ex.credentials.scrub(jsonable(getattr(exc, "output", None)))
            log.status, log.error = RunLog.Status.FAILED, message
            retry, message = _should_retry(ex, settings, names, message, details, attempt)
            if not retry:
                _fail(ex, frame, node_id, node, cls, settings, log, t0, exc, message, details)
                return
            log.output = details
            ex.record(frame, log, t0, cls)
            delay = retry_delay(settings, attempt, ex.rng)
            if delay >= ex.park_after and ex.can_park(frame):
                raise ParkForRetry(delay) from None
            _sleep(ex, frame, delay)
            continue
        _succeeded(ex, frame, node_id, cls, log, t0, result)
        return


def _succeeded(ex: RunExecution, frame: Frame, node_id: str, cls: type[NodeType], log: RunLog,
               t0: float, result: Wait | tuple[dict[str, Any], bool]) -> None:
    if isinstance(result, Wait):
        log.status, log.output = RunLog.Status.WAITING, WaitRecord.from_wait(result).to_json()
        ex.record(frame, log, t0, cls, now=True)
        frame.states[node_id] = NodeState("waiting", {"_wait": log})
        return
    outputs, plain = result
    port = next(iter(outputs), DEFAULT_PORT)
    if plain and port == DEFAULT_PORT:
        log.output = outputs[port]
    else:
        log.ports, log.output = list(outputs), outputs
    if cls.pure:  # recomputed on resume, so a big output need not be stored whole
        log.output = log_copy(log.output, ex.log_max)
    log.status = RunLog.Status.SUCCEEDED
    ex.record(frame, log, t0, cls)
    frame.states[node_id] = NodeState("succeeded", outputs)


def _attempt(ex: RunExecution, frame: Frame, node_id: str, node: dict, cls: type[NodeType],
             settings: NodeSettings, names: dict[str, Any], input_value: Any,
             attempt: int, meter: UsageMeter) -> Wait | tuple[dict[str, Any], bool]:
    """One attempt: render the config, call run() (under the timeout), run a loop body.
    Returns a Wait, or (outputs by port, whether the node returned a plain value)."""
    config = _prepare_config(ex, cls, node_config(cls, node), names)
    ex.credentials.remember_config(cls, config)
    ex.credentials.prefetch(cls, config)
    project_id = ex.run.workflow.project_id
    memory = memory_buffer.prefetch(cls, config, project_id, threaded=frame.threaded)
    ctx = NodeContext(node_id=node_id, node_type=node["type"], names=names,
                      run_id=ex.run.pk, attempt=attempt,
                      expression_timeout=ex.expression_timeout,
                      services=ex.services_for(frame, node_id, cls), scope=frame.scope,
                      tenant=tenant_of(ex.run.workflow), credentials=ex.credentials,
                      files=ex.files, meter=meter, project_id=project_id,
                      memory_buffer=memory)
    timeout = settings.timeout
    if timeout is None and (not cls.pure or cls.long_running):
        timeout = cls.timeout
    if cls.inline_only:
        # It reaches into the engine (database, child runs) from this thread; such work
        # cannot be abandoned in another thread.
        timeout = None
    # While the node works in its thread, this one watches for a cancellation.
    watch = None if frame.threaded else (lambda: ex.journal.check(force=True))
    result = call_with_timeout(lambda: cls().run(ctx, config, input_value), timeout,
                               name=f"wfaib-node-{node_id}", watch=watch,
                               every=CANCEL_CHECK_INTERVAL)
    if memory is not None:  # the node's thread is done: its turn is stored from this one
        memory.flush()
    if isinstance(result, Iterate):
        return run_loop(ex, frame, node_id, result, names), False
    if isinstance(result, Wait):
        if frame.owner is not None:
            raise NodeError("a run can only wait at the top level, not inside a loop body")
        return result
    scrub = ex.credentials.scrub  # what a node returns holds no secret the run knows
    if isinstance(result, Outputs):
        return {port: scrub(jsonable(v)) for port, v in result.ports.items()}, False
    return {first_port(cls, node): scrub(jsonable(result))}, True


def _should_retry(ex: RunExecution, settings: NodeSettings, names: dict[str, Any],
                  message: str, details: Any, attempt: int) -> tuple[bool, str]:
    if attempt >= settings.max_attempts:
        return False, message
    if not settings.retry_if:
        return True, message
    extra = {"error": message, "details": details, "attempt": attempt}
    try:
        return bool(evaluate(settings.retry_if, {**names, **extra},
                             timeout=ex.expression_timeout)), message
    except ExpressionError as exc:
        return False, f"{message} (retry_if failed: {exc})"


def _fail(ex: RunExecution, frame: Frame, node_id: str, node: dict, cls: type[NodeType],
          settings: NodeSettings, log: RunLog, t0: float, exc: Exception, message: str,
          details: Any) -> None:
    """The last attempt failed: stop the run, or continue / route with the error."""
    if settings.on_error == "stop":
        log.output = details
        ex.record(frame, log, t0, cls)
        frame.states[node_id] = NodeState("failed")
        if isinstance(exc, BodyFailure):  # keep the inner node's id and message
            raise BodyFailure(exc.message, node_id=exc.node_id) from None
        error = BodyFailure if frame.owner is not None else NodeError
        where = f" in {frame.scope}" if frame.scope else ""
        raise error(f"node {node_id!r} ({node['type']}) failed{where}: {message}",
                    node_id=node_id) from None
    port = ERROR_PORT if settings.on_error == "route" else first_port(cls, node)
    outputs = {port: {"error": message, "node": node_id, "details": details}}
    log.ports, log.output = [port], outputs
    ex.record(frame, log, t0, cls)
    frame.states[node_id] = NodeState("succeeded", outputs)


_TEMPLATE_DEFAULTS: dict[type, dict[str, str]] = {}


def _template_defaults(cls: type[NodeType]) -> dict[str, str]:
    """Config fields whose default is a template (e.g. items="{{ input }}")."""
    found = _TEMPLATE_DEFAULTS.get(cls)
    if found is None:
        found = _TEMPLATE_DEFAULTS[cls] = {
            name: f.default for name, f in cls.Config.model_fields.items()
            if isinstance(f.default, str) and "{{" in f.default and name not in cls.raw_fields
        }
    return found


def _prepare_config(ex: RunExecution, cls: type[NodeType], raw: dict,
                    names: dict[str, Any]) -> Any:
    raw_fields = cls.raw_fields
    defaults = _template_defaults(cls)
    if defaults:  # a default such as "{{ input }}" is rendered like a given value
        raw = {**{k: v for k, v in defaults.items() if k not in raw}, **raw}
    try:
        rendered = {
            key: (value if key in raw_fields else
                  render_value(value, names, timeout=ex.expression_timeout))
            for key, value in raw.items()
        }
    except ExpressionError as exc:
        raise NodeError(f"config expression failed: {exc}") from None
    if _has_template(raw):  # only a `{{ }}` template's value can need turning into text
        rendered = as_text_where_wanted(cls, raw, rendered)
    try:
        return cls.Config.model_validate(rendered)
    except PydanticValidationError as exc:
        problems = "; ".join(
            f"config.{'.'.join(str(p) for p in e['loc'])}: "
            f"{e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors(include_url=False)
        )
        raise NodeError(f"invalid config after rendering: {problems}") from None


def _has_template(raw: Any) -> bool:
    """Whether any text inside `raw` holds a `{{ }}` template."""
    if isinstance(raw, str):
        return "{{" in raw
    if isinstance(raw, dict):
        return any(_has_template(v) for v in raw.values())
    if isinstance(raw, list):
        return any(_has_template(v) for v in raw)
    return False


def _from_template(raw: Any, path: tuple[Any, ...]) -> bool:
    """True when the value at `path` came out of a `{{ }}` template in the raw config."""
    for key in path:
        if isinstance(raw, str):
            break
        if isinstance(raw, dict) and key in raw:
            raw = raw[key]
        elif isinstance(raw, list) and isinstance(key, int) and 0 <= key < len(raw):
            raw = raw[key]
        else:
            return False
    return isinstance(raw, str) and "{{" in raw


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    """`value` with `new` at `path`, copying only the containers on the way (a whole
    template hands over the run's own data, which must not change)."""
    if not path:
        return new
    key, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, key: _replaced(value[key], rest, new)}
    copy = list(value)
    copy[key] = _replaced(copy[key], rest, new)
    return copy


def as_text_where_wanted(cls: type[NodeType], raw: dict, rendered: dict) -> dict:
    """A template's value in a field typed as text becomes its text, as in n8n:
    `{{ input.id }}` yielding 42 in a `str` field (or a `dict[str, str]` such as the HTTP
    query) is "42"; in a field that takes numbers or any value it stays 42."""
    for path, value in list(text_paths(cls.Config, rendered)):
        if _from_template(raw, path):
            rendered = _replaced(rendered, path, stringify(value))
    return rendered


def _sleep(ex: RunExecution, frame: Frame, seconds: float) -> None:
    """Wait before a retry; the main thread keeps checking for cancellation meanwhile."""
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        time.sleep(min(remaining, CANCEL_CHECK_INTERVAL))
        if not frame.threaded:
            ex.journal.check(force=True)
