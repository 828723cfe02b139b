"""Encryption at rest for credential secrets (Fernet: AES-128-CBC + HMAC-SHA256).

    token = encrypt_json({"api_key": "sk-..."})
    data = decrypt_json(token)

Keys come from WFAIB["CREDENTIAL_KEYS"] (comma-separated Fernet keys, newest first, so a key
can be rotated: old tokens still decrypt, new ones use the first key). When none is set, a key
is derived from SECRET_KEY, so the embedded mode needs no extra setup; that derived key stays
the last one tried, so setting CREDENTIAL_KEYS later loses nothing. `reencrypt(token)` (and
`manage.py rotate_credential_keys`) rewrites a token under the first key, after which older
keys, and SECRET_KEY, can change.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings

from wfaib.conf import wfaib_settings


@cache
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
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


def reencrypt(token: str) -> str:
    """`token` encrypted again under the first key (for key rotation)."""
    if not token:
        return token
    return _current().rotate(token.encode()).decode()
