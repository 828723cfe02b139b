"""Starting runs. Every trigger (webhook, API, admin, CLI, schedule) goes through `run_start`."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from workflows.models import Workflow
from workflows.services import current_version

from . import dispatch
from .models import Run


def run_start(
    *, workflow: Workflow, input: Any = None, trigger: str = Run.Trigger.MANUAL,  # noqa: A002
    execute: bool = True,
) -> Run:
    """Create a queued Run pinned to the workflow's current version and hand it to the executor
    once the transaction commits. With `execute=False` the caller executes it itself (CLI)."""
    with transaction.atomic():
        run = Run.objects.create(
            workflow=workflow, version=current_version(workflow), trigger=trigger, input=input,
        )
        if execute:
            transaction.on_commit(lambda: dispatch.dispatch_run(run.pk))
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
