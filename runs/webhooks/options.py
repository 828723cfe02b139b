"""What a workflow's webhook takes, from its `webhook` trigger node(s): methods, body kinds and
the payload's shape (nodes/types/webhook.py documents the fields).

    options = webhook_options(workflow)   # WebhookOptions(methods, accept, payload)

Several webhook nodes: the union of their methods and kinds, the first one's payload shape.
No webhook node: POST with a JSON body, the body as the payload (as before these options).
Read from the workflow's current version, which runs.services caches per process.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from nodes.types.webhook import WebhookConfig, WebhookNode
from nodes.versions import node_config
from workflows.models import Workflow
from workflows.services import current_version


@dataclass(frozen=True)
class WebhookOptions:
    methods: frozenset[str]
    accept: frozenset[str]
    payload: str  # "body" | "request"


DEFAULT = WebhookOptions(frozenset({"POST"}), frozenset({"json"}), "body")
_CACHE: dict[tuple[object, ...], WebhookOptions] = {}
_CACHE_MAX = 512


def _from_definition(definition: dict) -> WebhookOptions:
    configs = []
    for node in definition.get("nodes") or []:
        if isinstance(node, dict) and node.get("type") == "webhook":
            try:
                configs.append(WebhookConfig.model_validate(node_config(WebhookNode, node)))
            except ValidationError:  # validated on save; an odd stored one keeps defaults
                continue
    if not configs:
        return DEFAULT
    return WebhookOptions(frozenset(m for c in configs for m in c.methods),
                          frozenset(k for c in configs for k in c.accept), configs[0].payload)


def webhook_options(workflow: Workflow) -> WebhookOptions:
    version = current_version(workflow)
    key = (version.pk, version.number, version.created_at)  # pks are reused in test rollbacks
    found = _CACHE.get(key)
    if found is None:
        found = _from_definition(version.definition or {})
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        _CACHE[key] = found
    return found
