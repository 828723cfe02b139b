"""Which workflows use a credential: the nodes of their current definition whose credential
fields (`nodes.base.credential_field`) name it, by id or by name. A credential in use is not
deleted (`services.credential_delete` raises CredentialInUse listing them).

    credential_users(credential) -> [{"id": 3, "name": "Daily report"}, ...]
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from nodes.base import NodeType
from nodes.registry import registry

from .models import Credential, Workflow


def credential_field_names(cls: type[NodeType]) -> list[str]:
    """The config fields of `cls` that name a credential."""
    fields = getattr(cls.Config, "model_fields", {})
    return [name for name, info in fields.items()
            if isinstance(info.json_schema_extra, dict)
            and "x-credential" in info.json_schema_extra]


def credential_refs(definition: Any) -> list[int | str]:
    """The credential references (ids or names, as written) in a definition's node configs;
    expressions (computed at run time) are not counted."""
    refs: list[int | str] = []
    nodes = definition.get("nodes") if isinstance(definition, dict) else None
    for node in nodes if isinstance(nodes, list) else []:
        kind = node.get("type") if isinstance(node, dict) else None
        cls = registry.get(kind) if isinstance(kind, str) and kind in registry else None
        config = node.get("config") if cls is not None else None  # type: ignore[union-attr]
        if cls is None or not isinstance(config, dict):
            continue
        for name in credential_field_names(cls):
            ref = config.get(name)
            if isinstance(ref, int) or (isinstance(ref, str) and ref.strip()
                                        and "{{" not in ref):
                refs.append(ref)
    return refs


def _names(credential: Credential, project_id: int, ref: int | str) -> bool:
    text = str(ref).strip()
    if text.isdigit():
        return int(text) == credential.pk
    if text != credential.name:
        return False
    # By name, a project's own credential of that name comes first.
    return project_id == credential.project_id or not Credential.objects.filter(
        project_id=project_id, name=text).exists()


def credential_users(credential: Credential) -> list[dict[str, Any]]:
    """The workflows (id, name) of the projects that may use `credential` whose current
    definition names it."""
    shared = credential.shared_with.values("pk")
    candidates = Workflow.objects.filter(
        Q(project_id=credential.project_id) | Q(project_id__in=shared)).order_by("pk")
    users = []
    for workflow in candidates.only("pk", "name", "project_id", "definition"):
        if any(_names(credential, workflow.project_id, ref)
               for ref in credential_refs(workflow.definition)):
            users.append({"id": workflow.pk, "name": workflow.name})
    return users
