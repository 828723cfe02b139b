"""API tokens: create, authenticate, revoke.

    token, key = token_create(user=user, name="ci")   # `key` is shown once, never stored
    Authorization: Token <key>                         # ApiTokenAuthentication checks it

A token may be limited to one project (`project`: it sees and changes nothing elsewhere), to
reads (`read_only`: any write answers 403 read_only_token, see accounts.api.base.TokenLimits),
and may expire (`expires_at`: afterwards 401 token_expired).

Keys are random (256 bits); the database keeps only their SHA-256 digest, so a leaked database
does not leak usable tokens. A plain (unsalted) digest is enough because the keys are random.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone
from rest_framework import authentication, exceptions

from audit.services import audit_record

from .models import ApiToken, Project, User

KEY_PREFIX = "wfaib_"
# last_used_at is refreshed at most this often, so a busy client does not write on every call.
LAST_USED_RESOLUTION = dt.timedelta(seconds=60)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def token_create(*, user: User, name: str = "login", project: Project | None = None,
                 read_only: bool = False,
                 expires_at: dt.datetime | None = None) -> tuple[ApiToken, str]:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, key_digest=_digest(key),
                                    prefix=key[: len(KEY_PREFIX) + 6], project=project,
                                    read_only=read_only, expires_at=expires_at)
    audit_record(action="token.create", obj=token, actor=user,
                 extra={"user": user.pk, "name": name,
                        "project": project.pk if project else None, "read_only": read_only,
                        "expires_at": expires_at.isoformat() if expires_at else None})
    return token, key


@transaction.atomic
def token_revoke(*, token: ApiToken) -> None:
    audit_record(action="token.revoke", obj=token, actor=None,
                 extra={"user": token.user_id, "name": token.name})
    token.delete()


class ApiTokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>` against ApiToken digests."""

    model = ApiToken

    def authenticate_credentials(self, key: str):
        try:
            token = ApiToken.objects.select_related("user", "project").get(
                key_digest=_digest(key))
        except ApiToken.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        now = timezone.now()
        if token.expires_at is not None and token.expires_at <= now:
            raise exceptions.AuthenticationFailed("This token has expired.", code="token_expired")
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token.user, token
