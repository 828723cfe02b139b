"""The OAuth2 authorization-code "connect" flow of an `oauth2` credential.

    url = connect_start(credential, back="admin")  # the browser goes there
    GET /api/oauth2/callback?code=...&state=...     # connect_finish(code, state)

The state is signed (SECRET_KEY), names the credential, expires after STATE_MAX_AGE seconds
and is accepted once. The tokens are stored encrypted in the credential
(runs.engine.oauth2).
"""

from __future__ import annotations

import secrets

from django.core import signing
from django.core.cache import cache

from wfaib.conf import wfaib_settings
from wfaib.errors import DomainError
from workflows.models import Credential

from .engine.credentials import resolved_data
from .engine.oauth2 import TokenError, authorize_url, exchange_code

STATE_MAX_AGE = 600
_SALT = "wfaib.oauth2.state"


class ConnectRefused(DomainError):
    code, status = "oauth2_connect_refused", 400


def redirect_uri() -> str:
    return wfaib_settings.BASE_URL.rstrip("/") + "/api/oauth2/callback"


def connect_start(credential: Credential, *, back: str = "api") -> str:
    """The provider's authorize URL for `credential` (an authorization_code oauth2 one)."""
    data = credential.data
    if credential.kind != "oauth2" or data.get("grant_type") != "authorization_code":
        raise ConnectRefused("only an oauth2 credential with grant_type authorization_code "
                             "is connected this way")
    state = signing.dumps({"c": credential.pk, "n": secrets.token_urlsafe(16), "b": back},
                          salt=_SALT)
    return authorize_url(resolved_data(data, credential.name), state, redirect_uri())


def connect_finish(*, code: str, state: str) -> tuple[Credential, str]:
    """Exchange the callback's code for tokens; returns the credential and where the flow
    started ("api" or "admin")."""
    try:
        payload = signing.loads(state, salt=_SALT, max_age=STATE_MAX_AGE)
    except signing.SignatureExpired:
        raise ConnectRefused("the connect request expired; start it again") from None
    except signing.BadSignature:
        raise ConnectRefused("invalid state") from None
    if not cache.add(f"wfaib:oauth2-state:{payload['n']}", 1, STATE_MAX_AGE * 2):
        raise ConnectRefused("this connect request was already used; start it again")
    credential = Credential.objects.filter(pk=payload["c"], kind="oauth2").first()
    if credential is None:
        raise ConnectRefused("the credential no longer exists")
    if not code:
        raise ConnectRefused("the provider sent no code")
    try:
        data = resolved_data(credential.data, credential.name)
        exchange_code(credential, data, code, redirect_uri())
    except TokenError as exc:
        raise ConnectRefused(str(exc)) from None
    return credential, payload.get("b", "api")
