"""Pinned data: a node's output kept as test data for the editor (n8n's "pin data").

    workflow_pin(workflow=wf, node_id="fetch", value={...}, port=None, user=user)
    workflow_unpin(workflow=wf, node_id="fetch", user=user)
    pins_of(wf)   # {node_id: {"value", "port", "by", "at"}} of the nodes the definition has

Pins live in `Workflow.pinned`, beside the definition, never in it: saving a pin makes no
version, and the engine never reads them. Only a test run (runs/test_runs.py, started from the
editor with a `mode`) seeds a pinned node's output instead of running it; webhook, schedule,
API, CLI and retry runs ignore pins entirely.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from nodes.registry import registry
from wfaib.conf import wfaib_settings
from wfaib.errors import DomainError

from .models import Workflow

# The marker a run log stores instead of an output over WFAIB_LOG_MAX_BYTES
# (runs/engine/state.py TRUNCATED; workflows never imports runs).
_TRUNCATED = "__wfaib_truncated__"


class InvalidField(DomainError):
    """A request field that cannot be taken; answered like a serializer's 400 (`fields`)."""

    code = "invalid"

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.text = field, message

    def extra(self) -> dict[str, Any]:
        return {"fields": {self.field: [self.text]}}


def _node(workflow: Workflow, node_id: str) -> dict[str, Any]:
    for node in (workflow.definition or {}).get("nodes", []):
        if isinstance(node, dict) and node.get("id") == node_id:
            return node
    raise InvalidField("node", f"the workflow has no node {node_id!r} (save the workflow "
                               f"after adding it, then pin)")


def node_ports(node: dict[str, Any]) -> list[str]:
    """The output ports of a definition node (its type's, for its config)."""
    cls = registry.get(node.get("type")) if node.get("type") in registry else None
    if cls is None:
        return ["main"]
    return list(cls.output_ports(node.get("config") or {})) or ["main"]


def pins_of(workflow: Workflow) -> dict[str, dict[str, Any]]:
    """The pins of nodes the current definition has (a pin of a node since removed or
    renamed is not shown and never used)."""
    ids = {n.get("id") for n in (workflow.definition or {}).get("nodes", [])
           if isinstance(n, dict)}
    return {nid: pin for nid, pin in (workflow.pinned or {}).items() if nid in ids}


@transaction.atomic
def workflow_pin(*, workflow: Workflow, node_id: str, value: Any, port: str | None = None,
                 user: Any = None) -> dict[str, Any]:
    """Pin `value` as node `node_id`'s output (on `port`, default its first output port).
    Raises InvalidField naming `node`, `port` or `value`. Returns the stored pin."""
    locked = Workflow.objects.select_for_update().get(pk=workflow.pk)
    node = _node(locked, node_id)
    ports = node_ports(node)
    if port is None:
        port = ports[0]
    elif port not in ports and port != "error":
        raise InvalidField("port", f"node {node_id!r} has no output port {port!r} "
                                   f"(it has {', '.join(ports)})")
    if isinstance(value, dict) and value.get(_TRUNCATED) is True:
        raise InvalidField("value", "this is the preview of an output too big for the run log "
                                    "(WFAIB_LOG_MAX_BYTES), not the output itself")
    size = len(orjson.dumps(value))
    limit = int(wfaib_settings.PIN_MAX_BYTES)
    if size > limit:
        raise InvalidField("value", f"pinned data is {size} bytes of JSON; at most {limit} "
                                    f"(WFAIB_PIN_MAX_BYTES)")
    pin = {"value": value, "port": port, "bytes": size, "at": timezone.now().isoformat(),
           "by": getattr(user, "email", "") or ""}
    locked.pinned = {**(locked.pinned or {}), node_id: pin}
    locked.save(update_fields=["pinned"])
    workflow.pinned = locked.pinned
    audit_record(action="workflow.pin", obj=locked, actor=user,
                 extra={"node": node_id, "port": port, "bytes": size})
    return pin


@transaction.atomic
def workflow_unpin(*, workflow: Workflow, node_id: str, user: Any = None) -> bool:
    """Remove node `node_id`'s pin; False when it had none."""
    locked = Workflow.objects.select_for_update().get(pk=workflow.pk)
    pinned = dict(locked.pinned or {})
    if pinned.pop(node_id, None) is None:
        return False
    locked.pinned = pinned
    locked.save(update_fields=["pinned"])
    workflow.pinned = pinned
    audit_record(action="workflow.unpin", obj=locked, actor=user, extra={"node": node_id})
    return True
