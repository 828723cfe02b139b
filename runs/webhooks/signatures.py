"""Webhook authentication per workflow: none, a secret token header, or a Standard Webhooks
HMAC signature (https://www.standardwebhooks.com):

    webhook-id: msg_2b...          unique per delivery (also the idempotency key)
    webhook-timestamp: 1700000000  seconds since the epoch; refused outside +-5 minutes
    webhook-signature: v1,<base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}"))> [v1,... ]

The key is the secret's base64 payload when the secret has the scheme's `whsec_` prefix (as the
secrets this project generates do, so standard client libraries work), else the secret's UTF-8
bytes. Every comparison is constant-time. After a rotation the previous secret is accepted too,
until the grace period ends.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass

TOLERANCE_SECONDS = 5 * 60
TOKEN_HEADER = "X-Webhook-Token"


@dataclass
class AuthFailure(Exception):
    code: str
    message: str


def secret_key(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except (binascii.Error, ValueError):
            pass
    return secret.encode()


def sign(secret: str, msg_id: str, timestamp: int | str, body: bytes) -> str:
    """The `webhook-signature` value for a delivery (used by tests and by clients in Python)."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def valid_secrets(current: str, previous: str, rotated_at: dt.datetime | None,
                  grace_seconds: int, now: dt.datetime) -> list[str]:
    secrets = [current] if current else []
    if previous and rotated_at is not None \
            and now - rotated_at <= dt.timedelta(seconds=grace_seconds):
        secrets.append(previous)
    return secrets


def check_token(headers: Mapping[str, str], secrets: list[str]) -> None:
    given = headers.get(TOKEN_HEADER, "")
    if not given:
        auth = headers.get("Authorization", "")
        given = auth[7:] if auth[:7].lower() == "bearer " else ""
    if not given:
        raise AuthFailure("missing_token",
                          f"this workflow needs its secret in the {TOKEN_HEADER} header")
    # compare_digest on every secret (no early exit), so timing tells nothing.
    matches = [hmac.compare_digest(given.encode(), s.encode()) for s in secrets]
    if not any(matches):
        raise AuthFailure("invalid_token", "the webhook token is not valid")


def check_signature(headers: Mapping[str, str], body: bytes, secrets: list[str],
                    now: float | None = None) -> str:
    """Verify a Standard Webhooks signature; return the webhook-id."""
    msg_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not (msg_id and timestamp and signatures):
        raise AuthFailure("missing_signature", "this workflow needs a signed request: "
                          "webhook-id, webhook-timestamp and webhook-signature headers")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise AuthFailure("invalid_timestamp",
                          "webhook-timestamp must be whole seconds since the epoch") from None
    if abs((now if now is not None else time.time()) - sent_at) > TOLERANCE_SECONDS:
        raise AuthFailure("timestamp_out_of_window",
                          "webhook-timestamp is more than 5 minutes from the server's clock")
    expected = [sign(s, msg_id, sent_at, body).encode() for s in secrets]
    matched = False
    for candidate in signatures.split():
        for exp in expected:
            matched |= hmac.compare_digest(candidate.encode(), exp)
    if not matched:
        raise AuthFailure("invalid_signature", "the webhook signature does not match")
    return msg_id
