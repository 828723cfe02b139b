"""The webhook's workflow lookup, cached in this process (the `find` step's query).

    workflow = lookup(ref)          # by id (int or digits) or custom path; None if none
    forget(workflow_id)             # drop every entry of that workflow (signals call it)

Each entry holds the Workflow row as the gateway reads it (`FIELDS`) for
WFAIB_WEBHOOK_LOOKUP_CACHE seconds (0: no cache). Saving or deleting a workflow drops its
entries in this process at once and again when the transaction commits (a concurrent request
could have cached the old row in between); other processes see the change within those
seconds at most, as their entries expire. Missing workflows are not cached (an unknown id costs
its query, as before). The cached object is shared by concurrent requests: read it, never
change it.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from wfaib.conf import wfaib_settings
from workflows.models import Workflow

FIELDS = ("id", "name", "created_at", "is_active", "version", "max_concurrency", "project",
          "webhook_auth", "webhook_mode", "webhook_secret", "webhook_previous_secret",
          "webhook_secret_rotated_at", "webhook_path")
MAX_ENTRIES = 1024

_entries: dict[tuple[str, Any], tuple[float, Workflow]] = {}
_lock = threading.Lock()


def _key(ref: int | str) -> tuple[str, Any]:
    if isinstance(ref, str) and not ref.isdigit():
        return ("path", ref)
    return ("id", int(ref))


def _query(key: tuple[str, Any]) -> Workflow | None:
    lookup = {"webhook_path": key[1]} if key[0] == "path" else {"pk": key[1]}
    return Workflow.objects.filter(**lookup).only(*FIELDS).first()


def lookup(ref: int | str) -> Workflow | None:
    """The workflow a webhook names: by id, or (a str that is not all digits) custom path."""
    key = _key(ref)
    ttl = float(wfaib_settings.WEBHOOK_LOOKUP_CACHE)
    if ttl <= 0:
        return _query(key)
    now = time.monotonic()
    found = _entries.get(key)
    if found is not None and found[0] > now:
        return found[1]
    workflow = _query(key)
    if workflow is not None:
        with _lock:
            if len(_entries) >= MAX_ENTRIES:
                _entries.clear()
            _entries[key] = (now + ttl, workflow)
    return workflow


def forget(workflow_id: int | None) -> None:
    with _lock:
        for key in [k for k, (_, wf) in _entries.items() if wf.pk == workflow_id]:
            _entries.pop(key, None)


def clear() -> None:
    with _lock:
        _entries.clear()


@receiver(post_save, sender=Workflow, dispatch_uid="webhook_lookup_saved")
@receiver(post_delete, sender=Workflow, dispatch_uid="webhook_lookup_deleted")
def _workflow_changed(sender: type[Workflow], instance: Workflow, **kwargs: Any) -> None:
    workflow_id = instance.pk
    forget(workflow_id)
    transaction.on_commit(lambda: forget(workflow_id))
