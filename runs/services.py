"""Starting runs. Every trigger (webhook, API, admin, CLI, schedule) goes through `run_start`."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from workflows.models import Workflow
from workflows.services import current_version

from . import dispatch
from .models import Run


def run_start(
    *, workflow: Workflow, input: Any = None, trigger: str = Run.Trigger.MANUAL,  # noqa: A002
    execute: bool = True, idempotency_key: str = "", parent_run: Run | None = None,
) -> Run:
    """Create a queued Run pinned to the workflow's current version and hand it to the executor
    once the transaction commits. With `execute=False` the caller executes it itself (CLI).

    With an `idempotency_key` already used for this workflow, the first run is returned and
    nothing new starts (check `run.created` to tell which happened)."""
    if idempotency_key:
        existing = Run.objects.filter(workflow=workflow, idempotency_key=idempotency_key).first()
        if existing:
            existing.created = False
            return existing
    try:
        with transaction.atomic():
            run = Run.objects.create(
                workflow=workflow, version=current_version(workflow), trigger=trigger,
                input=input, idempotency_key=idempotency_key, parent_run=parent_run,
                depth=(parent_run.depth + 1) if parent_run else 0,
            )
            run.created = True
            if execute:
                transaction.on_commit(lambda: dispatch.dispatch_run(run.pk))
    except IntegrityError:
        if not idempotency_key:
            raise
        existing = Run.objects.get(workflow=workflow, idempotency_key=idempotency_key)
        existing.created = False
        return existing
    return run


def run_cancel(*, run: Run) -> Run:
    """Cancel a queued or waiting run at once; ask a running one to stop before its next node."""
    from django.utils import timezone

    Run.objects.filter(
        pk=run.pk, status__in=[Run.Status.QUEUED, Run.Status.WAITING]
    ).update(status=Run.Status.CANCELLED, cancel_requested=True, finished_at=timezone.now(),
             error="cancelled by request")
    Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING).update(cancel_requested=True)
    run.refresh_from_db()
    return run
