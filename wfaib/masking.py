"""The one masking rule for every output: API answers, the admin, the audit trail, logs and
error messages.

    shown = mask(workflow.definition)          # secrets -> "********"
    saved = keep_secrets(edited, stored)        # "********" -> the stored value, same place
    text = mask_text("GET https://u:pw@h/?api_key=k")  # "...u:********@h/?api_key=********"
    out = scrub_values(output, ["s3cret"])      # known secret values -> "***", at any depth

What is a secret (`is_secret_key`): the value under a key whose name says so, at any depth:
`*secret*`, `*password*`/`passwd`, `api_key`/`api-key`/`apikey` (so `X-Api-Key`),
`private_key`, a name ending in `token` (`X-Webhook-Token`, `access_token`), the HTTP
credential headers `Authorization`, `Proxy-Authorization`, `Cookie`, `Set-Cookie`, and every
config field a node type declares in `secret_fields` (the llm node's `api_key`).

In free text (`mask_text`): the password of a URL's user info, URL query parameters named like
a secret, and `Bearer`/`Basic`/`Token` credentials.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from nodes.registry import registry

MASK = "********"

_SECRET_KEY = re.compile(
    r"secret|passw(or)?d|api[-_]?key|private[-_]?key|token$"
    r"|^(proxy-)?authorization$|^(set-)?cookie$|^credentials?$",
    re.IGNORECASE,
)


def _node_secret_fields() -> frozenset[str]:
    return frozenset(name.lower() for cls in registry for name in cls.secret_fields)


def is_secret_key(key: Any, fields: frozenset[str] | None = None) -> bool:
    """Whether the value under the dict key `key` is a secret (see the module docstring).
    `fields`: the node types' secret field names, when the caller has them at hand."""
    if not isinstance(key, str):
        return False
    if _SECRET_KEY.search(key):
        return True
    return key.lower() in (_node_secret_fields() if fields is None else fields)


def is_credential_reference(key: Any, value: Any) -> bool:
    """A node's `credential` field naming a stored credential by id or name (not a secret:
    the editor shows which one is picked)."""
    return key == "credential" and (isinstance(value, int) or (
        isinstance(value, str) and len(value) <= 100))


def _masked(value: Any) -> Any:
    """The mask for a secret value: empty values stay empty (nothing to hide, and the editor
    shows a field as unset)."""
    return MASK if value not in (None, "", [], {}) else value


def mask(value: Any) -> Any:
    """A copy of `value` with every secret replaced by MASK (the value itself when there is
    nothing to mask, so unmasked data is not copied)."""
    return _mask(value, _node_secret_fields())


def _mask(value: Any, fields: frozenset[str]) -> Any:
    if isinstance(value, dict):
        out: dict[Any, Any] | None = None
        for key, item in value.items():
            secret = is_secret_key(key, fields) and not is_credential_reference(key, item)
            new = _masked(item) if secret else _mask(item, fields)
            if new is not item and out is None:
                out = dict(value)
            if out is not None:
                out[key] = new
        return value if out is None else out
    if isinstance(value, list):
        items = [_mask(item, fields) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def _by_id(items: list[Any]) -> dict[Any, Any] | None:
    """List items keyed by their "id" (workflow nodes), or None for other lists."""
    if not items or not all(isinstance(i, dict) and "id" in i for i in items):
        return None
    return {i["id"]: i for i in items}


def keep_secrets(new: Any, old: Any) -> Any:
    """`new` with each MASK under a secret key replaced by the stored value at the same place
    in `old` (list items with an "id", such as nodes, are matched by id and type); a mask with
    nothing stored behind it becomes empty."""
    return _keep(new, old, _node_secret_fields())


def _keep(new: Any, old: Any, fields: frozenset[str]) -> Any:
    if isinstance(new, dict):
        return _keep_dict(new, old if isinstance(old, dict) else {}, fields)
    if isinstance(new, list):
        return _keep_list(new, old if isinstance(old, list) else [], fields)
    return new


def _keep_dict(new: dict[Any, Any], old: dict[Any, Any], fields: frozenset[str]) -> Any:
    out: dict[Any, Any] | None = None
    for key, item in new.items():
        if item == MASK and is_secret_key(key, fields):
            stored = old.get(key, "")
            restored = "" if stored == MASK else stored
        else:
            restored = _keep(item, old.get(key), fields)
        if restored is not item and out is None:
            out = dict(new)
        if out is not None:
            out[key] = restored
    return new if out is None else out


def _stored_item(item: Any, index: int, old: list[Any],
                 stored: dict[Any, Any] | None) -> Any:
    """What `item` (at `index` of the new list) was before: the old item with its id and
    type when the old list is keyed by id, else the old item at the same index."""
    if stored is not None and isinstance(item, dict) and "id" in item:
        before = stored.get(item["id"])
        if before is not None and before.get("type") != item.get("type"):
            return None
        return before
    return old[index] if index < len(old) and stored is None else None


def _keep_list(new: list[Any], old: list[Any], fields: frozenset[str]) -> Any:
    stored = _by_id(old)
    result = [_keep(item, _stored_item(item, index, old, stored), fields)
              for index, item in enumerate(new)]
    return new if all(a is b for a, b in zip(result, new, strict=True)) else result


_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s@]+(?P<tail>@)",
                           re.IGNORECASE)
_QUERY_SECRET = re.compile(
    r"(?P<head>[?&](?P<name>[^=&\s#]+)=)(?P<value>[^&\s#'\"]+)")
_CREDENTIAL = re.compile(r"\b(?P<head>(?:Bearer|Basic|Token)\s+)[A-Za-z0-9._~+/=-]{6,}",
                         re.IGNORECASE)


def mask_text(text: str) -> str:
    """`text` (an error message, a log line) with credentials in it masked."""
    if not isinstance(text, str) or not text:
        return text
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}{m['tail']}", text)
    text = _QUERY_SECRET.sub(
        lambda m: f"{m['head']}{MASK}" if is_secret_key(m["name"]) or
        m["name"].lower() in ("key", "sig", "signature", "auth", "code") else m[0], text)
    return _CREDENTIAL.sub(lambda m: f"{m['head']}{MASK}", text)


SCRUBBED = "***"


def scrub_values(value: Any, secrets: list[str] | tuple[str, ...]) -> Any:
    """`value` (text, or JSON-like data at any depth) with every occurrence of the known
    secret strings `secrets` (longest first) replaced by "***": what a run stores of a node
    that saw decrypted credentials. The value itself when nothing was found."""
    if not secrets:
        return value
    if isinstance(value, str):
        if not any(s in value for s in secrets):
            return value
        for secret in secrets:
            value = value.replace(secret, SCRUBBED)
        return value
    if isinstance(value, dict):
        out = {key: scrub_values(item, secrets) for key, item in value.items()}
        return value if all(out[k] is value[k] for k in value) else out
    if isinstance(value, list):
        items = [scrub_values(item, secrets) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


class MaskingFilter(logging.Filter):
    """A logging filter applying `mask_text` to each record's message (set on the handlers in
    settings.LOGGING), so a secret in a URL or a header never reaches the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave it to the handler to report
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
