"""Login lockout with django-axes: the hooks our settings point it at.

After WFAIB_LOGIN_FAILURE_LIMIT failed logins for one email address from one client address,
further attempts for that pair are refused for WFAIB_LOGIN_LOCKOUT_MINUTES, on both doors that
check passwords: the admin login form and `POST /api/auth/login`. A successful login resets the
count. Keying on the (email, address) pair means an attacker cannot lock a user out from
everywhere by failing on purpose; spraying many emails from one address is held back by the
login rate limit (WFAIB_LOGIN_RATE). Attempts are stored in the database (axes' tables, visible
in the admin), so every web process sees the same counts.

Answers while locked out: the API gets 429 {"code": "locked_out", "message": ...,
"retry_after", "locked_until"} with Retry-After (seconds); the admin gets the same message as
text. Each attempt during a lockout restarts it (axes' default), so it ends `cool-off` after the
latest attempt. Ways out before then: `manage.py axes_reset_username <email>` (or `axes_reset`
for everyone), or the *Unlock logins* action on users in the admin (`lockout_reset`).
"""

from __future__ import annotations

import math
from typing import Any

from axes.helpers import get_cool_off
from axes.utils import reset
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from audit.services import audit_record
from wfaib.client_address import client_address


def username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The email the attempt was for, lower-cased (as logins are), from the credentials passed
    to `authenticate` (API: email=...; admin form: username=...) or the posted form."""
    for source in (credentials or {}, getattr(request, "POST", {})):
        value = source.get("email") or source.get("username")
        if value:
            return str(value).strip().lower()
    return ""


def ip_address(request: HttpRequest) -> str | None:
    return client_address(request)


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict[str, Any] | None = None) -> HttpResponse:
    cool_off = get_cool_off(request)
    seconds = max(1, math.ceil(cool_off.total_seconds())) if cool_off else None
    until = timezone.now() + cool_off if cool_off else None
    message = ("Too many failed logins for this account from your address; "
               + (f"try again in {math.ceil(seconds / 60)} minute(s), after "
                  f"{until:%H:%M} UTC (each attempt before then restarts the wait), "
                  "or ask an administrator to unlock it." if until
                  else "ask an administrator to unlock it."))
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"code": "locked_out", "message": message, "retry_after": seconds,
             "locked_until": until.isoformat() if until else None},
            status=settings.AXES_HTTP_RESPONSE_CODE)
    else:
        response = HttpResponse(message, status=settings.AXES_HTTP_RESPONSE_CODE,
                                content_type="text/plain; charset=utf-8")
    if seconds:
        response["Retry-After"] = str(seconds)
    return response


def lockout_reset(*, user: Any, actor: Any = None) -> int:
    """Forget the failed logins recorded for this user's email (from every address), which
    ends any lockout at once. Returns how many records were removed."""
    removed = reset(username=user.email.strip().lower())
    audit_record(action="user.unlock", obj=user, actor=actor, extra={"attempts": removed})
    return removed
