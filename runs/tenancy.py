"""Fairness between tenants: whose runs these are, and how much of the shared executor each
tenant may hold at once.

    tenant_of(workflow)           # the tenant a workflow's runs count against: its project
    has_room(run_id)              # in the claim's transaction: may this queued run start now?
    release(run)                  # a run stopped: hand its tenant's next queued runs out

WFAIB_TENANT_MAX_RUNNING caps the runs of one tenant that are `running` at once (0 = no cap);
a tenant's runs past it stay `queued`, in order, and start as its own runs end, so one tenant
cannot take every executor thread or Celery worker. Code-worker time is shared the same way in
runs/engine/sandbox_process.py (WFAIB_TENANT_CODE_WORKERS), keyed by the same `tenant_of`.

The tenant is the workflow's project (`tenant_of`, `_tenant_runs` and `_lock_tenant` change
together if that ever changes: they sit side by side here).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q

from accounts.models import Project
from wfaib.conf import wfaib_settings
from workflows.models import Workflow

from .models import Run


def tenant_of(workflow: Workflow) -> int:
    """The tenant whose share a workflow's runs use."""
    return workflow.project_id


def _tenant_runs(tenant: int) -> Q:
    return Q(workflow__project_id=tenant)


def _lock_tenant(tenant: int) -> None:
    """Serialize the claims of one tenant's runs (PostgreSQL; SQLite's IMMEDIATE transactions
    serialize every writer already)."""
    list(Project.objects.select_for_update().filter(pk=tenant).values_list("pk"))


def max_running() -> int:
    return int(wfaib_settings.TENANT_MAX_RUNNING or 0)


def has_room(run_id: int) -> bool:
    """Whether the queued run `run_id` may start without its tenant passing
    WFAIB_TENANT_MAX_RUNNING. Call inside the claim's transaction (it locks the tenant)."""
    limit = max_running()
    if not limit:
        return True
    run = (Run.objects.filter(pk=run_id, status=Run.Status.QUEUED).select_related("workflow")
           .only("id", "workflow__project_id").first())
    if run is None:  # not queued: the claim itself finds nothing to do
        return True
    tenant = tenant_of(run.workflow)
    _lock_tenant(tenant)
    running = Run.objects.filter(_tenant_runs(tenant), status=Run.Status.RUNNING).count()
    return running < limit


def release(run: Any) -> list[int]:
    """After `run` stopped running: the oldest queued runs of its tenant that now fit under
    the cap, to be dispatched (empty without a cap)."""
    limit = max_running()
    if not limit:
        return []
    tenant = tenant_of(run.workflow)
    runs = Run.objects.filter(_tenant_runs(tenant))
    free = limit - runs.filter(status=Run.Status.RUNNING).count()
    if free <= 0:
        return []
    return list(runs.filter(status=Run.Status.QUEUED).order_by("created_at", "id")
                .values_list("id", flat=True)[:free])


def may_defer(definition: dict[str, Any]) -> bool:
    """Whether the synchronous webhook may execute a run of `definition` before it is stored
    (runs.dispatch's deferred path). Not with code nodes: the request could not answer 202 at
    WFAIB_WEBHOOK_SYNC_TIMEOUT while its code waits for or holds a code worker."""
    return not _has_code(definition.get("nodes", ()))


def _has_code(nodes: Iterable[Any]) -> bool:
    return any(isinstance(n, dict) and n.get("type") == "code" for n in nodes)
