"""External credential values, read when a run uses the credential and never stored:

    {"$env": "WFAIB_SECRET_GITHUB"}     an environment variable of the worker (only names
                                        starting with WFAIB_CREDENTIAL_ENV_PREFIX)
    {"$vault": "secret/app/github#token"}  key `token` of the KV v2 secret `app/github` in
                                        the mount `secret` (hvac; WFAIB_VAULT_URL/_TOKEN)
"""

from __future__ import annotations

import os
from typing import Any

from nodes.base import NodeError
from wfaib.conf import wfaib_settings
from workflows.credential_kinds import is_external

TIMEOUT = 10


def resolve(data: dict[str, Any], name: str = "") -> dict[str, Any]:
    """`data` with each external reference replaced by its value now (NodeError naming the
    credential and field when one cannot be read; never the value)."""
    if not any(is_external(v) for v in data.values()):
        return data
    vault: dict[str, dict[str, Any]] = {}  # one read per secret path
    out = dict(data)
    for field, value in data.items():
        if is_external(value):
            out[field] = _value(value, vault, f"credential {name!r} field {field!r}")
    return out


def _value(ref: dict[str, str], vault: dict[str, dict[str, Any]], where: str) -> Any:
    (kind, target), = ref.items()
    if kind == "$env":
        prefix = wfaib_settings.CREDENTIAL_ENV_PREFIX
        if not target.startswith(prefix):
            raise NodeError(f"{where}: $env may only name variables starting with {prefix!r}")
        if target not in os.environ:
            raise NodeError(f"{where}: the environment variable {target!r} is not set")
        return os.environ[target]
    path, _, key = target.partition("#")
    if path not in vault:
        vault[path] = _vault_read(path, where)
    if key not in vault[path]:
        raise NodeError(f"{where}: the Vault secret {path!r} has no key {key!r}")
    return vault[path][key]


def _vault_read(path: str, where: str) -> dict[str, Any]:
    import hvac
    import requests

    url, token = wfaib_settings.VAULT_URL, wfaib_settings.VAULT_TOKEN
    if not url:
        raise NodeError(f"{where}: Vault is not configured (WFAIB_VAULT_URL)")
    mount, _, rest = path.strip("/").partition("/")
    if not rest:
        raise NodeError(f"{where}: a Vault reference is 'mount/path#key'")
    client = hvac.Client(url=url, token=token or None, timeout=TIMEOUT)
    try:
        answer = client.secrets.kv.v2.read_secret_version(
            path=rest, mount_point=mount, raise_on_deleted_version=True)
    except hvac.exceptions.InvalidPath:
        raise NodeError(f"{where}: the Vault secret {path!r} does not exist") from None
    except hvac.exceptions.Forbidden:
        raise NodeError(f"{where}: Vault refused to read {path!r} (permission denied)") \
            from None
    except (hvac.exceptions.VaultError, requests.RequestException) as exc:
        raise NodeError(f"{where}: reading {path!r} from Vault failed "
                        f"({type(exc).__name__})") from None
    data = (answer or {}).get("data", {}).get("data")
    if not isinstance(data, dict):
        raise NodeError(f"{where}: the Vault secret {path!r} is not a KV v2 secret")
    return data
