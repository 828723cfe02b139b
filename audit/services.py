"""Writing and pruning the audit trail.

    audit_record(action="workflow.update", obj=workflow, actor=user,
                 diff=json_diff(before, after))
    audit_prune()            # deletes events older than WFAIB_AUDIT_RETENTION_DAYS

Call `audit_record` from the service that makes the change, inside its transaction, so an
event exists exactly when the change was committed. The actor, client address and door default
to the current request's (see `audit.context`); pass them to override.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from wfaib.conf import wfaib_settings
from wfaib.masking import is_secret_key, mask

from .context import current_actor
from .models import AuditEvent


def audit_record(
    *, action: str, obj: models.Model | None = None, object_type: str = "",
    object_id: Any = "", object_repr: str = "", actor: Any = None, ip: str | None = None,
    via: str | None = None, diff: Any = None, extra: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write one AuditEvent. `obj` fills object type/id/repr (they may also be given, e.g.
    for an object already deleted). `diff` and `extra` are masked (wfaib.masking) whatever the
    caller passes."""
    context = current_actor()
    actor = actor if actor is not None else context.user
    if actor is not None and not getattr(actor, "pk", None):
        actor = None  # AnonymousUser, or a user object not saved
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)
    return AuditEvent.objects.create(
        actor=actor, actor_repr=str(actor)[:254] if actor is not None else "",
        action=action, object_type=object_type, object_id=str(object_id or ""),
        object_repr=object_repr[:200], ip=ip if ip is not None else context.ip,
        via=via if via is not None else context.via, diff=mask(diff), extra=mask(extra or {}),
    )


def _key_of(item: Any) -> Any:
    return item.get("id") if isinstance(item, dict) else None


def _added_or_removed(path: str, key: Any, before: dict[Any, Any],
                      after: dict[Any, Any]) -> list[dict[str, Any]] | None:
    """The change for a key only one side has (None when both have it)."""
    if key not in after:
        return [{"op": "remove", "path": path, "old": mask(before[key])}]
    if key not in before:
        return [{"op": "add", "path": path, "new": mask(after[key])}]
    return None


def _dict_diff(old: dict[Any, Any], new: dict[Any, Any], path: str) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    for key in [*old.keys(), *(k for k in new if k not in old)]:
        sub = f"{path}.{key}" if path else str(key)
        if is_secret_key(key):
            if old.get(key) != new.get(key):
                op = "add" if key not in old else "remove" if key not in new else "replace"
                changes.append({"op": op, "path": sub, "masked": True})
            continue
        one_sided = _added_or_removed(sub, key, old, new)
        changes.extend(one_sided if one_sided is not None else
                       json_diff(old[key], new[key], sub))
    return changes


def _ids(items: list[Any]) -> list[Any] | None:
    """The items' "id"s when every item has one and they are unique, else None."""
    ids = [_key_of(i) for i in items]
    if any(k is None for k in ids) or len(set(ids)) != len(items):
        return None
    return ids


def _list_diff(old: list[Any], new: list[Any], path: str) -> list[dict[str, Any]] | None:
    """Lists matched by id, or item by item when of equal length; None: changed as a whole."""
    old_ids, new_ids = _ids(old), _ids(new)
    if old_ids is not None and new_ids is not None:
        before = dict(zip(old_ids, old, strict=True))
        after = dict(zip(new_ids, new, strict=True))
        changes: list[dict[str, Any]] = []
        for key in [*old_ids, *(k for k in new_ids if k not in before)]:
            sub = f"{path}[id={key}]"
            one_sided = _added_or_removed(sub, key, before, after)
            changes.extend(one_sided if one_sided is not None else
                           json_diff(before[key], after[key], sub))
        return changes
    if len(old) == len(new):
        changes = []
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            changes.extend(json_diff(a, b, f"{path}[{i}]"))
        return changes
    return None


def json_diff(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """The changes from `old` to `new` as [{"op": "add"|"remove"|"replace", "path", "old"?,
    "new"?}]. Dicts are compared key by key; lists of objects with an "id" (workflow nodes) are
    matched by id (path `nodes[id=fetch].config.url`); other lists change as a whole, or, when
    both are lists of equal length, item by item. Secrets (wfaib.masking) are never written:
    a changed secret is `{"op", "path", "masked": true}`, and added or removed values are
    masked inside."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        return _dict_diff(old, new, path)
    if isinstance(old, list) and isinstance(new, list):
        changes = _list_diff(old, new, path)
        if changes is not None:
            return changes
    return [{"op": "replace", "path": path, "old": mask(old), "new": mask(new)}]


def retention_days() -> int:
    return int(wfaib_settings.AUDIT_RETENTION_DAYS)


@transaction.atomic
def audit_prune(*, days: int | None = None, now: dt.datetime | None = None) -> int:
    """Delete events older than `days` (default: the retention setting; 0 keeps everything).
    Returns how many were deleted."""
    days = retention_days() if days is None else days
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    deleted, _ = AuditEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted


_last_prune: dt.datetime | None = None
_prune_lock = threading.Lock()
PRUNE_EVERY = dt.timedelta(days=1)


def audit_prune_if_due(*, now: dt.datetime | None = None) -> int | None:
    """For the scheduler loop: prune at most once a day per process (a second scheduler
    pruning the same rows is harmless). Returns the count, or None when not due."""
    global _last_prune
    now = now or timezone.now()
    with _prune_lock:
        if _last_prune is not None and now - _last_prune < PRUNE_EVERY:
            return None
        _last_prune = now
    return audit_prune(now=now)
