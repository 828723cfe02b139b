"""Custom webhook paths: `/hook/<path>` reaches the workflow whose `webhook_path` it is.

    check_webhook_path("orders-in")    # the path, or raises ValueError saying why

A path is 2-64 characters of lower-case letters, digits and single hyphens, starting with a
letter (so `/hook/<digits>` always means a workflow id), not a reserved word, and unique in
the installation (the database's unique constraint).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

PATH_RE = re.compile(r"^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){1,63}$")
RESERVED = frozenset({
    "test", "api", "admin", "hook", "hooks", "webhook", "webhooks", "static", "media",
    "health", "resume", "listen", "schema", "docs", "accounts", "invitations", "run", "runs",
    "workflow", "workflows", "new", "edit", "null", "none", "undefined",
})


def check_webhook_path(value: str) -> str:
    text = value.strip()
    if not PATH_RE.match(text):
        raise ValueError("2-64 lower-case letters, digits and single hyphens, starting with a "
                         "letter and not ending with a hyphen")
    if text in RESERVED:
        raise ValueError(f"{text!r} is reserved; choose another path")
    return text


def validate_webhook_path(value: str) -> None:
    """The model field's validator (forms and the API alike)."""
    try:
        check_webhook_path(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="invalid_webhook_path") from None
