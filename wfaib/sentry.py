"""Error tracking with Sentry (or a Sentry-compatible server such as GlitchTip), on when
SENTRY_DSN is set: unhandled errors of the web processes (Django integration) and of the
Celery workers (Celery integration), and ERROR log records.

    configure()                  # start-up (runs/apps.py); a no-op without SENTRY_DSN
    scrub(event, hint)           # before_send: the masking rule applied to the whole event

Nothing leaves unmasked: every value under a secret-looking key (wfaib.masking.is_secret_key:
passwords, tokens, Authorization and Cookie headers, the node types' secret fields) becomes
"********" at any depth of the event, and every string is passed through `mask_text` (URL
passwords, `Bearer` credentials, secret query parameters). Request bodies and personal data
are not sent (send_default_pii=False, max_request_body_size="never").
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from .masking import MASK, is_secret_key, mask_text

_MAX_DEPTH = 64
_SENTRY_SECRETS = frozenset({"cookies", "sessionid", "csrftoken", "env"})  # event fields


def _secret(key: object) -> bool:
    return is_secret_key(key) or (isinstance(key, str) and key.lower() in _SENTRY_SECRETS)


def _scrub(value: Any, depth: int = 0) -> Any:
    if depth > _MAX_DEPTH:
        return MASK
    if isinstance(value, dict):
        return {k: (MASK if _secret(k) and v not in (None, "", [], {})
                    else _scrub(v, depth + 1)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        # headers often come as [name, value] pairs
        if len(value) == 2 and isinstance(value[0], str) and _secret(value[0]):
            return [value[0], MASK]
        return [_scrub(v, depth + 1) for v in value]
    if isinstance(value, str):
        return mask_text(value)
    return value


def scrub(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sentry's before_send (and before_send_transaction): the event with secrets masked."""
    return _scrub(event)


def configure() -> bool:
    dsn = getattr(settings, "SENTRY_DSN", "")
    if not dsn:
        return False
    import sentry_sdk  # here: a process without SENTRY_DSN never loads the SDK
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=getattr(settings, "SENTRY_ENVIRONMENT", "") or None,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        traces_sample_rate=float(getattr(settings, "SENTRY_TRACES_SAMPLE_RATE", 0.0)),
        send_default_pii=False,
        max_request_body_size="never",
        before_send=scrub,  # type: ignore[arg-type]
        before_send_transaction=scrub,  # type: ignore[arg-type]
    )
    return True
