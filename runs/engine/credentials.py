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
from wfaib.masking import scrub_values
from workflows.credential_kinds import MIN_SECRET, secret_values
from workflows.models import Credential as StoredCredential
from workflows.selectors import credential_usable_in

from . import external_values
from .oauth2 import fresh_token_data


def resolved_data(data: dict[str, Any], name: str = "") -> dict[str, Any]:
    """The data with external values ({"$env"}, {"$vault"}) read now (never stored)."""
    return external_values.resolve(data, name)


def credential_payload(credential: StoredCredential) -> Credential:
    """What a node receives of a stored credential: its decrypted data, an oauth2 one with a
    current access token (fetched or refreshed, and stored, as needed)."""
    data = resolved_data(credential.data, credential.name)
    if credential.kind == "oauth2":
        data = fresh_token_data(credential, data)
    return {"id": credential.pk, "name": credential.name, "kind": credential.kind,
            "data": data}


_CREDENTIAL_FIELDS: dict[tuple[type, type], tuple[str, ...]] = {}


def credential_fields(cls: type[NodeType]) -> tuple[str, ...]:
    """The config fields of `cls` that name a credential (`credential_field`); found once per
    node type and Config class (every attempt of every node asks)."""
    key = (cls, cls.Config)
    found = _CREDENTIAL_FIELDS.get(key)
    if found is None:
        fields = getattr(cls.Config, "model_fields", {})
        found = _CREDENTIAL_FIELDS[key] = tuple(
            name for name, info in fields.items()
            if isinstance(info.json_schema_extra, dict)
            and "x-credential" in info.json_schema_extra)
    return found


class CredentialResolver:
    def __init__(self, project_id: int | None):
        self.project_id = project_id
        self._found: dict[str, Credential] = {}
        self._failed: dict[str, NodeError] = {}  # by prefetch, for the node to see
        # The secret values this run has seen (credentials' secret fields, nodes' decrypted
        # secret config fields), longest first: scrubbed from all the run stores.
        self._known: tuple[str, ...] = ()
        self._owner = threading.get_ident()
        self._lock = threading.Lock()

    def prefetch(self, cls: type[NodeType], config: Any) -> None:
        for name in credential_fields(cls):
            ref = getattr(config, name, None)
            if ref not in (None, ""):
                with self._lock:  # a new attempt tries again
                    self._failed.pop(str(ref).strip(), None)
                try:
                    self(ref)
                except NodeError as exc:  # the node gets it when it asks (it may not ask)
                    with self._lock:
                        self._failed[str(ref).strip()] = exc

    def __call__(self, ref: int | str) -> Credential:
        key = str(ref).strip()
        with self._lock:
            if key in self._found:
                return self._found[key]
            if key in self._failed:
                raise NodeError(str(self._failed[key]))
        found = self._load(ref)
        with self._lock:
            self._found[key] = found
        self.remember(secret_values(found["kind"], found["data"]))
        return found

    def remember(self, values: Any) -> None:
        """Add secret values (strings of MIN_SECRET characters or more) to scrub."""
        new = {v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET}
        with self._lock:
            if new - set(self._known):
                self._known = tuple(sorted(set(self._known) | new, key=len, reverse=True))

    def remember_config(self, cls: type[NodeType], config: Any) -> None:
        """The node's secret config fields (llm api_key: decrypted from the definition)."""
        if cls.secret_fields:
            self.remember(getattr(config, name, None) for name in cls.secret_fields)

    def scrub(self, value: Any) -> Any:
        """`value` with every known secret replaced by "***" (the value itself if none)."""
        return scrub_values(value, self._known)

    def scrub_stream(self, text: str) -> str:
        """A text still being written (a streamed model answer, shown while the node works):
        scrubbed, and its end held back while it could be the start of a known secret that
        the next pieces would complete (`sk-ab` of `sk-abcdef` is not shown until the rest
        comes and is scrubbed, or something else does)."""
        text = self.scrub(text)
        held = 0
        for secret in self._known:
            tail = text[-(len(secret) - 1):]
            for i, char in enumerate(tail):
                if char == secret[0] and secret.startswith(tail[i:]):
                    held = max(held, len(tail) - i)
                    break
        return text[:len(text) - held]

    def _load(self, ref: int | str) -> Credential:
        if self.project_id is None:
            raise NodeError(f"credential {ref!r}: no project to look it up in")
        try:
            credential = credential_usable_in(self.project_id, ref)
            if credential is None:
                raise NodeError(f"credential {ref!r} does not exist or is not available to "
                                f"this workflow's project")
            return credential_payload(credential)
        finally:
            if threading.get_ident() != self._owner:  # a node's own thread: no stray connection
                connection.close()
