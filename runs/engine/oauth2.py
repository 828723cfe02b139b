"""OAuth2 tokens of `oauth2` credentials: fetched, refreshed before expiry, stored encrypted in
the credential (never in a definition or a log).

    data = fresh_token_data(credential_model, resolved_data)   # the engine, per run
    authorize_url(credential, state, redirect_uri)             # the "connect" door
    exchange_code(credential, code, redirect_uri)              # its callback

`client_credentials`: a token is fetched from token_url when there is none or it expires
within REFRESH_MARGIN seconds. `authorization_code`: the user connects once (authorize,
callback); then the refresh_token renews the access token before it expires; an expired token
that cannot be refreshed fails with a reason saying to connect again. Token requests go
through the outbound address guard.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

import httpx
from django.db import transaction

from nodes.base import NodeError
from workflows.models import Credential

from . import outbound

REFRESH_MARGIN = 60.0  # seconds before expiry a token is renewed
TIMEOUT = 15.0


class TokenError(NodeError):
    pass


def _fresh(data: dict[str, Any]) -> bool:
    if not data.get("access_token"):
        return False
    expires_at = data.get("expires_at")
    return expires_at is None or float(expires_at) > time.time() + REFRESH_MARGIN


def _token_request(name: str, data: dict[str, Any], form: dict[str, str]) -> dict[str, Any]:
    """POST `form` to the token URL (client id and secret in the body); the token answer."""
    body = {**form, "client_id": str(data.get("client_id") or "")}
    if data.get("client_secret"):
        body["client_secret"] = str(data["client_secret"])
    try:
        response = outbound.request("POST", str(data.get("token_url") or ""), timeout=TIMEOUT,
                                    data=body, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise TokenError(f"OAuth2 credential {name!r}: the token request failed: {exc}") \
            from None
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if response.status_code != 200 or not isinstance(answer, dict) \
            or not answer.get("access_token"):
        reason = answer.get("error") if isinstance(answer, dict) else None
        raise TokenError(f"OAuth2 credential {name!r}: the token endpoint answered HTTP "
                         f"{response.status_code}" + (f" ({reason})" if reason else ""))
    return answer


def _tokens(answer: dict[str, Any]) -> dict[str, Any]:
    tokens: dict[str, Any] = {"access_token": str(answer["access_token"])}
    expires_in = answer.get("expires_in")
    tokens["expires_at"] = (time.time() + float(expires_in)
                            if isinstance(expires_in, (int, float)) else None)
    if answer.get("refresh_token"):
        tokens["refresh_token"] = str(answer["refresh_token"])
    return tokens


def store_tokens(credential_id: int, tokens: dict[str, Any]) -> None:
    """Write new tokens into the stored (encrypted) data, keeping every other field as stored
    (an external reference stays a reference)."""
    with transaction.atomic():
        locked = Credential.objects.select_for_update().get(pk=credential_id)
        locked.data = {**locked.data, **tokens}
        locked.save(update_fields=["encrypted_data", "updated_at"])


def fresh_token_data(credential: Credential, data: dict[str, Any]) -> dict[str, Any]:
    """`data` (resolved) with a current access token, fetched or refreshed as needed."""
    if _fresh(data):
        return data
    name = credential.name
    if data.get("grant_type", "client_credentials") == "client_credentials":
        form = {"grant_type": "client_credentials"}
        if data.get("scope"):
            form["scope"] = str(data["scope"])
        tokens = _tokens(_token_request(name, data, form))
    else:
        if not data.get("refresh_token"):
            what = "has expired" if data.get("access_token") else "was never obtained"
            raise TokenError(f"OAuth2 credential {name!r}: the access token {what} and there "
                             f"is no refresh token; connect the credential again")
        try:
            answer = _token_request(name, data, {"grant_type": "refresh_token",
                                                 "refresh_token": str(data["refresh_token"])})
        except TokenError as exc:
            raise TokenError(f"{exc}; the expired access token could not be refreshed: "
                             f"connect the credential again") from None
        tokens = _tokens(answer)
    store_tokens(credential.pk, tokens)
    return {**data, **tokens}


def authorize_url(data: dict[str, Any], state: str, redirect_uri: str) -> str:
    """Where the user's browser goes to grant access (authorization code flow)."""
    query = {"response_type": "code", "client_id": str(data.get("client_id") or ""),
             "redirect_uri": redirect_uri, "state": state}
    if data.get("scope"):
        query["scope"] = str(data["scope"])
    base = str(data.get("authorize_url") or "")
    return f"{base}{'&' if '?' in base else '?'}{urlencode(query)}"


def exchange_code(credential: Credential, data: dict[str, Any], code: str,
                  redirect_uri: str) -> None:
    """The callback's code becomes tokens, stored encrypted in the credential."""
    answer = _token_request(credential.name, data, {
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})
    store_tokens(credential.pk, _tokens(answer))
