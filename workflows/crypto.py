"""Encryption at rest for credential secrets (Fernet: AES-128-CBC + HMAC-SHA256).

    token = encrypt_json({"api_key": "sk-..."})
    data = decrypt_json(token)

Keys come from WFAIB["CREDENTIAL_KEYS"] (comma-separated Fernet keys, newest first, so a key
can be rotated: old tokens still decrypt, new ones use the first key). When none is set, a key
is derived from SECRET_KEY, so the embedded mode needs no extra setup; that derived key stays
the last one tried, so setting CREDENTIAL_KEYS later loses nothing. `rotate_token(token)` (and
`manage.py rotate_keys`) rewrites a token under the first key, after which older keys, and
SECRET_KEY, can change.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from typing import TYPE_CHECKING, Any

from django.conf import settings

from wfaib.conf import wfaib_settings

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet


@cache
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    # cryptography loads here, on the first secret read or written: its Rust module and
    # OpenSSL cost ~8 MB in every process, and most webhook runs hold no secret.
    from cryptography.fernet import Fernet, MultiFernet

    derived = hashlib.sha256(b"wfaib-credentials:" + secret_key.encode()).digest()
    keys = (*keys, base64.urlsafe_b64encode(derived).decode())
    return MultiFernet([Fernet(k) for k in keys])


def _current() -> MultiFernet:
    keys = tuple(k for k in wfaib_settings.CREDENTIAL_KEYS if k)
    return _fernet(keys, settings.SECRET_KEY)


def encrypt_json(data: Any) -> str:
    return _current().encrypt(json.dumps(data).encode()).decode()


def decrypt_json(token: str) -> Any:
    if not token:
        return {}
    return json.loads(_current().decrypt(token.encode()))


# -- secrets inside workflow definitions ------------------------------------------------------
# In the database a secret value of a node's config (a field the node type lists in
# `secret_fields`, or any value under a key the masking rule calls secret, such as an
# `Authorization` header) is {"$encrypted": "<fernet token>"}; in Python it is the plain
# value. `SealedJSONField` (workflows.fields) applies this on every write and read.

SEALED = "$encrypted"
# Keys that name a credential (a reference, not a secret) are left as they are.
_REFERENCES = frozenset({"credential", "credentials"})


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get(SEALED), str)


def _seal_config(value: Any, fields: frozenset[str]) -> Any:
    from wfaib.masking import is_secret_key

    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            secret = (is_secret_key(key, fields) and isinstance(key, str)
                      and key.lower() not in _REFERENCES)
            if secret and item not in (None, "", [], {}) and not is_sealed(item):
                out[key] = {SEALED: encrypt_json(item)}
            else:
                out[key] = item if secret else _seal_config(item, fields)
        return out
    if isinstance(value, list):
        return [_seal_config(item, fields) for item in value]
    return value


def _unseal(value: Any) -> Any:
    if is_sealed(value):
        return decrypt_json(value[SEALED])
    if isinstance(value, dict):
        return {key: _unseal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unseal(item) for item in value]
    return value


def _map_configs(definition: Any, change: Any) -> Any:
    nodes = definition.get("nodes") if isinstance(definition, dict) else None
    if not isinstance(nodes, list):
        return definition
    mapped = [{**node, "config": change(node["config"])}
              if isinstance(node, dict) and isinstance(node.get("config"), dict) else node
              for node in nodes]
    return {**definition, "nodes": mapped}


def seal_definition(definition: Any) -> Any:
    """A copy of `definition` with the secrets of its node configs encrypted."""
    from wfaib.masking import _node_secret_fields

    fields = _node_secret_fields()
    return _map_configs(definition, lambda config: _seal_config(config, fields))


def unseal_definition(definition: Any) -> Any:
    """`definition` with every {"$encrypted": token} in its node configs decrypted."""
    return _map_configs(definition, _unseal)


def rotate_token(token: str) -> str:
    """`token` re-encrypted with the newest key (MultiFernet.rotate)."""
    return _current().rotate(token.encode()).decode() if token else token
