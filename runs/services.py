"""Starting runs. Every trigger (webhook, API, admin, CLI, schedule) goes through `run_start`.

Also what the engine asks of the outside world (ENGINE_HOOKS, installed by runs/apps.py): a
sub-workflow's run to start, and what follows a run's end (its error workflow, resuming the
parent run that waits for it). The engine never imports this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from nodes.context import FileRef
from wfaib import tracing
from workflows.graph import Graph
from workflows.models import Workflow, WorkflowVersion
from workflows.services import current_version

from . import dispatch
from .db_retry import retry_on_lock
from .engine import group_writer
from .engine.hooks import EngineHooks
from .engine.log_rows import NewRun, new_run
from .engine.metering import Budget
from .engine.wait_record import WaitRecord
from .files import delete_stored, file_save
from .models import Run, RunLog

# Runs a person starts by hand; these are audited (webhooks, schedules and sub-runs are not).
MANUAL_TRIGGERS = (Run.Trigger.MANUAL, Run.Trigger.API, Run.Trigger.CLI, Run.Trigger.TEST)


@dataclass(frozen=True)
class RunStart:
    """What run_start_idempotent did: the run, and whether it was created now (False: the
    key was used before and this is the first run, replayed)."""

    run: Run
    created: bool


def run_start(
    *, workflow: Workflow, input: Any = None, trigger: str = Run.Trigger.MANUAL,
    execute: bool = True, parent_run: Run | None = None,
    version: WorkflowVersion | None = None, retry_of: Run | None = None,
    claimed: bool = False,
) -> Run:
    """Create a queued Run pinned to the workflow's current version and hand it to the executor
    once the transaction commits. With `execute=False` the caller executes it itself (CLI).
    A caller with an idempotency key uses run_start_idempotent.

    `claimed=True` (with execute=False) creates the run already `running`, for a caller that
    executes it in this process at once (runs.dispatch.submit_claimed): one write fewer. If
    the process dies, its stopped heartbeat lets the watchdog recover the run."""
    return retry_on_lock(
        _create_run, workflow=workflow, input=input, trigger=trigger, execute=execute,
        idempotency_key="", parent_run=parent_run, version=version, retry_of=retry_of,
        claimed=claimed)


def run_start_idempotent(
    *, workflow: Workflow, input: Any = None, trigger: str, key: str,
) -> RunStart:
    """run_start for a caller that may repeat itself (webhook-id, Idempotency-Key): with a
    `key` already used for this workflow, the first run is returned (created=False) and
    nothing new starts. An empty key always starts a run."""
    if not key and trigger not in MANUAL_TRIGGERS:
        return RunStart(_create_run_grouped(workflow=workflow, input=input, trigger=trigger),
                        created=True)
    if key:
        existing = Run.objects.filter(workflow=workflow, idempotency_key=key).first()
        if existing:
            return RunStart(existing, created=False)
    try:
        run = retry_on_lock(
            _create_run, workflow=workflow, input=input, trigger=trigger, execute=True,
            idempotency_key=key, parent_run=None, version=None, retry_of=None, claimed=False)
    except IntegrityError:
        if not key:
            raise
        return RunStart(Run.objects.get(workflow=workflow, idempotency_key=key), created=False)
    return RunStart(run, created=True)


def _create_run(
    *, workflow: Workflow, input: Any, trigger: str, execute: bool,
    idempotency_key: str, parent_run: Run | None, version: WorkflowVersion | None,
    retry_of: Run | None, claimed: bool,
) -> Run:
    """run_start's one transaction (retried as a whole when SQLite is locked)."""
    with transaction.atomic():
        running = {}
        if claimed:
            now = timezone.now()
            running = {"status": Run.Status.RUNNING, "created_at": now, "started_at": now,
                       "heartbeat_at": now, "executions": 1}  # created and started at once
        run = Run.objects.create(
            workflow=workflow, version=version or current_version(workflow),
            trigger=trigger, input=input, idempotency_key=idempotency_key,
            parent_run=parent_run, retry_of=retry_of,
            depth=(parent_run.depth + 1) if parent_run else 0,
            trace_context=tracing.current_carrier(), **running,
        )
        if trigger in MANUAL_TRIGGERS:
            audit_record(action="run.start", obj=run, object_repr=f"run #{run.pk} of "
                         f"{workflow.name}", via="cli" if trigger == Run.Trigger.CLI else None,
                         extra={"trigger": trigger, "workflow": workflow.pk})
        if execute:
            transaction.on_commit(lambda: dispatch.dispatch_run(run.pk))
    return run


def _create_run_grouped(*, workflow: Workflow, input: Any, trigger: str) -> Run:
    """_create_run for a plain new run (no key, parent, retry or audit record: a webhook's):
    its row is committed by this process's group writer together with the rows other request
    threads are writing (runs/engine/group_writer.py), by a prepared INSERT, and only then is
    it dispatched. In a caller's open transaction it is written there, and dispatched when
    that commits."""
    run = new_run(workflow=workflow, version=current_version(workflow), trigger=trigger,
                  input=input, trace_context=tracing.current_carrier())
    if group_writer.store(NewRun(run)):
        dispatch.dispatch_run(run.pk)  # committed: no on_commit, which may connect to ask
    else:
        transaction.on_commit(lambda: dispatch.dispatch_run(run.pk))
    return run


@dataclass(frozen=True)
class NewFile:
    """A file to keep with a run that is starting (a webhook upload)."""

    field: str
    name: str
    content_type: str
    data: bytes


def run_start_with_files(
    *, workflow: Workflow, files: list[NewFile], trigger: str, key: str,
    build_input: Callable[[dict[str, list[FileRef]]], Any],
) -> RunStart:
    """run_start_idempotent for a trigger that brings files: the run, its files (stored as
    its own, runs/files.py) and its input, which references them (`build_input(refs by
    field)`), are committed together before the run is dispatched. Stored bytes of a start
    that fails are deleted again. A replayed key stores nothing."""
    if key:
        existing = Run.objects.filter(workflow=workflow, idempotency_key=key).first()
        if existing:
            return RunStart(existing, created=False)
    return retry_on_lock(_start_with_files, workflow=workflow, files=files, trigger=trigger,
                         key=key, build_input=build_input)


def _start_with_files(*, workflow: Workflow, files: list[NewFile], trigger: str, key: str,
                      build_input: Callable[[dict[str, list[FileRef]]], Any]) -> RunStart:
    stored: list[str] = []
    try:
        with transaction.atomic():
            started = run_start_idempotent(workflow=workflow, input=None, trigger=trigger,
                                           key=key)
            if not started.created:
                return started
            refs: dict[str, list[FileRef]] = {}
            for new in files:
                ref = file_save(run_id=started.run.pk, name=new.name, data=new.data,
                                content_type=new.content_type)
                stored.append(ref["key"])
                refs.setdefault(new.field, []).append(ref)
            started.run.input = build_input(refs)
            started.run.save(update_fields=["input"])
            return started
    except BaseException:
        delete_stored(stored)
        raise


class RunFinished(ValueError):
    """The run had already finished: there is nothing to cancel."""


def run_cancel(*, run: Run) -> Run:
    """Cancel a queued or waiting run at once; ask a running one to stop (its executor stops
    waiting for the node at work and ends the run `cancelled`). Raises RunFinished when the run
    had already finished (nothing changes then)."""
    changed = Run.objects.filter(
        pk=run.pk, status__in=[Run.Status.QUEUED, Run.Status.WAITING]
    ).update(status=Run.Status.CANCELLED, cancel_requested=True, finished_at=timezone.now(),
             error="cancelled by request")
    changed += Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING).update(
        cancel_requested=True)
    run.refresh_from_db()
    if not changed:
        raise RunFinished(f"run {run.pk} has already finished ({run.status}); there is nothing "
                          "to cancel")
    audit_record(action="run.cancel", obj=run, object_repr=f"run #{run.pk}",
                 extra={"status": run.status, "workflow": run.workflow_id})
    return run


# -- flow control: retries, resumes, error workflows ------------------------------------------

class RetryNotAllowed(ValueError):
    """The run cannot be retried that way; the message says why."""


class ResumeNotFound(LookupError):
    """No run waits for this resume token (unknown, already resumed, timed out or finished)."""


RETRY_MODES = ("from_failed", "from_start")
RETRY_VERSIONS = ("pinned", "current")
_UNSET: Any = object()


def run_retry(
    *, run: Run, mode: str = "from_failed", input: Any = _UNSET,
    version: str = "pinned", execute: bool = True,
) -> Run:
    """Start a new run (trigger "retry", `retry_of` = run) for a failed or cancelled run.

    mode "from_failed": the new run starts with copies of the run's checkpoints (the logs of
    the top-level nodes that finished before the failure, not the failed node nor anything
    downstream of it), so those nodes are not run again and their recorded outputs are used.
    mode "from_start": everything runs again, with the original input or an edited `input`
    (an edited input always means from the start). `version`: "pinned" (the version the run
    ran) or "current" (the workflow's latest; checkpoints of nodes it no longer has are ignored).
    """
    if mode not in RETRY_MODES:
        raise RetryNotAllowed(f"mode must be one of {', '.join(RETRY_MODES)}, not {mode!r}")
    if version not in RETRY_VERSIONS:
        raise RetryNotAllowed(f"version must be one of {', '.join(RETRY_VERSIONS)}, "
                              f"not {version!r}")
    if run.trigger == Run.Trigger.TEST:  # its plan used pinned data: start a new test run
        raise RetryNotAllowed(f"run {run.pk} is a test run from the editor; run the step or "
                              f"the workflow again from the editor instead")
    if run.status not in (Run.Status.FAILED, Run.Status.CANCELLED):
        raise RetryNotAllowed(f"run {run.pk} is {run.status}; only failed or cancelled runs "
                              f"can be retried")
    edited = input is not _UNSET
    if mode == "from_failed":
        if edited:
            raise RetryNotAllowed("a retry with edited input runs from the start "
                                  "(mode from_start)")
        if run.status != Run.Status.FAILED or not run.error_node_id:
            raise RetryNotAllowed(f"run {run.pk} has no failed node to retry from; retry it "
                                  'from the start: send {"mode": "from_start"}')
    workflow = run.workflow
    pinned = run.version if version == "pinned" else current_version(workflow)
    with transaction.atomic():
        new = run_start(workflow=workflow, input=input if edited else run.input,
                        trigger=Run.Trigger.RETRY, execute=False, version=pinned, retry_of=run)
        if mode == "from_failed":
            graph = Graph.from_definition(run.version.definition)
            redo = {run.error_node_id}
            if run.error_node_id in graph.nodes:
                redo |= graph.descendants(run.error_node_id)
            keep = {n["id"] for n in pinned.definition.get("nodes", [])} - redo
            latest: dict[str, RunLog] = {}
            for log in run.logs.filter(scope="", node_id__in=keep).order_by("id"):
                latest[log.node_id] = log
            copies = [
                RunLog(run=new, node_id=log.node_id, node_type=log.node_type,
                       status=log.status, ports=log.ports, input=log.input, output=log.output,
                       error=log.error, duration_ms=log.duration_ms, attempt=log.attempt,
                       started_at=log.started_at, finished_at=log.finished_at)
                for log in latest.values()
                if log.status in (RunLog.Status.SUCCEEDED, RunLog.Status.SKIPPED)
                or (log.status == RunLog.Status.FAILED and log.ports is not None)
            ]
            RunLog.objects.bulk_create(copies)
        audit_record(action="run.retry", obj=new, object_repr=f"run #{new.pk} (retry of "
                     f"#{run.pk})", extra={"retry_of": run.pk, "mode": mode, "version": version,
                                           "edited_input": edited, "workflow": workflow.pk})
        if execute:
            transaction.on_commit(lambda: dispatch.dispatch_run(new.pk))
    return new


def run_retry_bulk(
    *, runs: Any, mode: str = "from_failed", version: str = "pinned",
) -> dict[str, list[dict[str, Any]]]:
    """Retry many runs (each in its own transaction). Runs that cannot be retried that way are
    reported, not raised: {"retried": [{"run", "retry"}], "skipped": [{"run", "reason"}]}."""
    retried: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    for run in runs:
        try:
            new = run_retry(run=run, mode=mode, version=version)
        except RetryNotAllowed as exc:
            skipped.append({"run": run.pk, "reason": str(exc)})
        else:
            retried.append({"run": run.pk, "retry": new.pk})
    return {"retried": retried, "skipped": skipped}


def _mark_resumed(run: Run, log: RunLog, record: WaitRecord) -> None:
    """Inside a transaction holding the run's row lock: mark a waiting log resumed (`record`,
    as WaitRecord.resumed_with left it) and queue the run if it is parked. A run still
    `running` (it has not finished suspending) sees the mark itself when it takes the same
    lock."""
    RunLog.objects.filter(pk=log.pk).update(output=record.to_json())
    if run.status == Run.Status.WAITING:
        Run.objects.filter(pk=run.pk).update(status=Run.Status.QUEUED, resume_at=None)
        run.status, run.resume_at = Run.Status.QUEUED, None
        transaction.on_commit(lambda: dispatch.dispatch_run(run.pk))


def run_resume_webhook(*, token: str, payload: Any = None) -> Run:
    """Resume the run whose wait_for_webhook node waits for `token`: the payload becomes the
    node's output and the run is queued again. Raises ResumeNotFound."""
    try:
        run_id = int(token.split("-", 1)[0])
    except ValueError:
        raise ResumeNotFound("unknown resume token") from None
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(pk=run_id).first()
        log = None
        if run is not None and run.status in (Run.Status.RUNNING, Run.Status.WAITING):
            log = RunLog.objects.filter(run_id=run_id, status=RunLog.Status.WAITING,
                                        output__token=token).first()
        record = WaitRecord.from_json(log.output) if log is not None else None
        if log is None or record is None or record.resumed:
            raise ResumeNotFound("no run is waiting for this resume URL (unknown, already "
                                 "resumed, timed out or finished)")
        _mark_resumed(run, log, record.resumed_with(output=payload))
    return run  # as of the resume (the executor may already be running it)


def run_resume_parent(*, child: Run) -> bool:
    """A sub-workflow run finished: resume the parent run whose node waits for it (its result,
    or its error, which fails that node). False when no parent waits for it (inline child)."""
    if not child.parent_run_id:
        return False
    child.refresh_from_db(fields=["status", "result", "error", "error_node_id"])
    if child.status not in Run.FINISHED:
        return False
    with transaction.atomic():
        parent = Run.objects.select_for_update().filter(pk=child.parent_run_id).first()
        if parent is None:
            return False
        log = RunLog.objects.filter(run_id=parent.pk, status=RunLog.Status.WAITING,
                                    output__child_run=child.pk).first()
        record = WaitRecord.from_json(log.output) if log is not None else None
        if log is None or record is None or record.resumed:
            return False
        if child.status == Run.Status.SUCCEEDED:
            record = record.resumed_with(output=child.result)
        else:
            where = f" at node {child.error_node_id!r}" if child.error_node_id else ""
            record = record.resumed_with(error=f"sub-workflow run {child.pk} {child.status}"
                                               f"{where}: {child.error or 'no error message'}")
        _mark_resumed(parent, log, record)
    return True


def run_start_error_workflow(*, run: Run) -> Run | None:
    """A run failed: start its workflow's error workflow (if any, and in the same project)
    with the failed run's id, workflow, failing node, error and that node's input. A failing
    error-workflow run does not start another one (no chains)."""
    run.refresh_from_db(fields=["status", "error", "error_node_id", "trigger"])
    if run.status != Run.Status.FAILED or run.trigger in (Run.Trigger.ERROR, Run.Trigger.TEST):
        return None  # no chains; a failing test run in the editor alerts nobody
    workflow = Workflow.objects.select_related("error_workflow").get(pk=run.workflow_id)
    target = workflow.error_workflow
    if target is None or target.project_id != workflow.project_id:
        return None
    failed = (RunLog.objects.filter(run=run, node_id=run.error_node_id,
                                    status=RunLog.Status.FAILED).order_by("-id").first()
              if run.error_node_id else None)
    payload = {
        "run_id": run.pk,
        "workflow": {"id": workflow.pk, "name": workflow.name},
        "node_id": run.error_node_id or None,
        "node_type": failed.node_type if failed else None,
        "error": run.error,
        "node_input": failed.input if failed else None,
        "trigger": run.trigger,
        "input": run.input,
    }
    return run_start_idempotent(workflow=target, input=payload, trigger=Run.Trigger.ERROR,
                                key=f"error-of-run-{run.pk}").run


def run_start_synchronously(
    *, workflow: Workflow, input: Any, trigger: str, timeout: float,
) -> tuple[Run, str] | None:
    """Start a run for a caller that waits for its end (the synchronous webhook) the fastest
    way the executor allows; (run, status) once it finished or waits, or status `running`
    past `timeout` (it goes on); with a `respond` node that answered, `run.response` is set
    and the status may be `running`. None when there is no direct path (the executor has none,
    a concurrency limit to queue behind): the caller then queues the run with run_start and
    polls."""
    if workflow.max_concurrency is not None:
        return None
    version = current_version(workflow)
    return dispatch.executor().run_synchronously(
        workflow=workflow, version=version, input=input, trigger=trigger, timeout=timeout,
        start=lambda: run_start(workflow=workflow, version=version, input=input,
                                trigger=trigger, execute=False, claimed=True))


# -- what the engine asks of services (runs.engine.hooks) -------------------------------------

def run_start_child(*, workflow: Workflow, input: Any, parent: Run) -> Run:
    """A sub-workflow node's child run: queued, not dispatched (the parent's executor runs it)."""
    return run_start(workflow=workflow, input=input, trigger=Run.Trigger.SUBWORKFLOW,
                     execute=False, parent_run=parent)


def run_after_finish(run: Run, status: str) -> None:
    """A run ended: start its workflow's error workflow when it failed, and resume the parent
    run that waits for it."""
    if status == Run.Status.FAILED:
        run_start_error_workflow(run=run)
    if run.parent_run_id:
        run_resume_parent(child=run)


def run_budget_warning(run: Run, budget: Budget, spent: Decimal) -> None:
    """A run's model calls took a monthly budget past 80 % of its limit: the audit event
    `budget.warning` on the workflow or project (the engine calls this; runs/engine/budgets.py).
    """
    target: Any = run.workflow if budget.scope == "workflow" else run.workflow.project
    audit_record(action="budget.warning", obj=target, actor=None, via="", extra={
        "budget": budget.kind, "limit": str(budget.limit), "spent": str(spent),
        "percent": round(float(spent / budget.limit * 100), 1) if budget.limit else None,
        "run": run.pk, "message": f"{budget.describe()} is {budget.amount(spent)} spent"})


ENGINE_HOOKS = EngineHooks(start_child=run_start_child, after_finish=run_after_finish,
                           budget_warning=run_budget_warning)
