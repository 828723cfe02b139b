"""Credentials for the nodes of one run: `ctx.credential(ref)` is answered from here.

The references in a node's config fields marked with `credential_field` are resolved in the
engine's thread before the node runs (`prefetch`), so a node working in its own timeout thread
reads them from memory; a reference computed at run time is looked up then. Only credentials
of the run's project or shared with it are found; the decrypted data lives in this object for
the run's lifetime and is never logged.
"""

from __future__ import annotations

import threading
from typing import Any

from django.db import connection

from nodes.base import NodeError, NodeType
from nodes.context import Credential
from workflows.selectors import credential_usable_in


def credential_fields(cls: type[NodeType]) -> list[str]:
    """The config fields of `cls` that name a credential (`credential_field`)."""
    fields = getattr(cls.Config, "model_fields", {})
    return [name for name, info in fields.items()
            if isinstance(info.json_schema_extra, dict)
            and "x-credential" in info.json_schema_extra]


class CredentialResolver:
    def __init__(self, project_id: int | None):
        self.project_id = project_id
        self._found: dict[str, Credential] = {}
        self._owner = threading.get_ident()
        self._lock = threading.Lock()

    def prefetch(self, cls: type[NodeType], config: Any) -> None:
        for name in credential_fields(cls):
            ref = getattr(config, name, None)
            if ref not in (None, ""):
                try:
                    self(ref)
                except NodeError:  # the node raises it when it asks (or may not ask)
                    pass

    def __call__(self, ref: int | str) -> Credential:
        key = str(ref).strip()
        with self._lock:
            if key in self._found:
                return self._found[key]
        found = self._load(ref)
        with self._lock:
            self._found[key] = found
        return found

    def _load(self, ref: int | str) -> Credential:
        if self.project_id is None:
            raise NodeError(f"credential {ref!r}: no project to look it up in")
        try:
            credential = credential_usable_in(self.project_id, ref)
            if credential is None:
                raise NodeError(f"credential {ref!r} does not exist or is not available to "
                                f"this workflow's project")
            return {"id": credential.pk, "name": credential.name, "kind": credential.kind,
                    "data": credential.data}
        finally:
            if threading.get_ident() != self._owner:  # a node's own thread: no stray connection
                connection.close()
