"""Two-factor sign-in: a TOTP authenticator app plus one-time recovery codes (django-otp).

    enrolment = totp_enrol_start(user=user)          # secret, otpauth:// URI, QR code (SVG)
    codes = totp_enrol_confirm(user=user, code="123456")   # on; the recovery codes, shown once
    mfa_verify(user=user, code="123456")             # "totp" | "recovery_code" | None
    mfa_disable(user=user, code=...) / mfa_disable(user=user, password=...)
    recovery_codes_regenerate(user=user, code=...)   # the old codes stop working
    user_has_mfa(user)                               # for a project that requires 2FA
    login_second_factor(request=..., user=..., code=...)   # every login door, after the password

Devices are django-otp's: a TOTPDevice (RFC 6238; unconfirmed while enrolling, so a half-done
enrolment never turns 2FA on; a code is refused once its time step, or an earlier one, has been
used: `last_t` in the row, locked while checked, so a replay fails on every web process) and a
StaticDevice holding ten 8-digit recovery codes, each deleted when used. django-otp's own
per-device throttle is off (settings): wrong codes are failed logins for django-axes, which
locks out by email and client address like wrong passwords do.

Why not allauth.mfa: allauth refuses to run its MFA app with SOCIALACCOUNT_ONLY (a system check
error), and SOCIALACCOUNT_ONLY is what keeps password logins on our locked-out doors when OAuth
sign-in is configured (accounts/oauth.py).
"""

from __future__ import annotations

import base64
import dataclasses
import re
import secrets
from io import BytesIO
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.services import audit_record

from .models import Project

_CODE = re.compile(r"^([0-9]{6}|[0-9]{8})$")
# Longest input looked at: 8 digits with a few separators ("1234 5678", "1234-5678").
MAX_CODE_LENGTH = 16
RECOVERY_CODE_COUNT = 10
DEVICE_NAME = "authenticator"


class MfaError(Exception):
    """A refused two-factor operation: `code` is the API's machine code."""

    code = "mfa_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code or self.code


def normalize_code(code: str) -> str:
    """A code as typed ("123 456", "1234-5678") -> its digits; ValueError unless it is 6 digits
    (authenticator app) or 8 (recovery code)."""
    if not isinstance(code, str) or len(code) > MAX_CODE_LENGTH:
        raise ValueError("too long")
    digits = re.sub(r"[\s-]", "", code)
    if not _CODE.match(digits):
        raise ValueError("not a code")
    return digits


def _totp(user: AbstractBaseUser, *, confirmed: bool = True, lock: bool = False):
    devices = TOTPDevice.objects.filter(user_id=user.pk, confirmed=confirmed)
    return (devices.select_for_update() if lock else devices).order_by("id").first()


def _recovery(user: AbstractBaseUser, *, lock: bool = False) -> StaticDevice | None:
    devices = StaticDevice.objects.filter(user_id=user.pk)
    return (devices.select_for_update() if lock else devices).order_by("id").first()


def mfa_devices(user: AbstractBaseUser) -> QuerySet[TOTPDevice]:
    """The user's confirmed authenticator apps: a 2FA user has one (usable as a subquery)."""
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True)


def user_has_mfa(user: AbstractBaseUser) -> bool:
    """True when the user signs in with a second factor (a confirmed authenticator app)."""
    if not getattr(user, "pk", None):
        return False
    return mfa_devices(user).exists()


def mfa_status(user: AbstractBaseUser) -> dict[str, Any]:
    """What a user may see about their 2FA: never a secret or a code."""
    totp = _totp(user)
    recovery = _recovery(user) if totp else None
    return {
        "enabled": totp is not None,
        "enabled_at": totp.created_at if totp else None,
        "last_used_at": totp.last_used_at if totp else None,
        "recovery_codes_left": recovery.token_set.count() if recovery else 0,
        # Projects of the user that require 2FA: without it, their data is hidden.
        "required_by_projects": list(
            Project.objects.filter(require_mfa=True, memberships__user_id=user.pk)
            .order_by("name", "pk").values("id", "name")),
    }


@dataclasses.dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str
    qr_svg: str


def _enrolment(device: TOTPDevice) -> Enrolment:
    import qrcode  # here: only an enrolment draws a QR code
    from qrcode.image.svg import SvgPathImage

    uri = device.config_url
    buffer = BytesIO()
    qrcode.make(uri, image_factory=SvgPathImage).save(buffer)
    return Enrolment(secret=base64.b32encode(device.bin_key).decode(), uri=uri,
                     qr_svg=buffer.getvalue().decode())


@transaction.atomic
def totp_enrol_start(*, user: AbstractBaseUser) -> Enrolment:
    """Start (or restart) enrolment: a new secret, unconfirmed until a code confirms it."""
    if user_has_mfa(user):
        raise MfaError("Two-factor sign-in is already on; turn it off first to change the "
                       "authenticator.", code="mfa_already_enabled")
    TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).delete()
    device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return _enrolment(device)


def totp_pending_enrolment(*, user: AbstractBaseUser) -> Enrolment | None:
    """The enrolment started and not yet confirmed (for the admin page to show it again)."""
    device = _totp(user, confirmed=False)
    return _enrolment(device) if device is not None else None


def _new_recovery_codes(user: AbstractBaseUser) -> list[str]:
    StaticDevice.objects.filter(user_id=user.pk).delete()
    device = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    codes: list[str] = []
    while len(codes) < RECOVERY_CODE_COUNT:
        code = f"{secrets.randbelow(10**8):08d}"
        if code not in codes:
            codes.append(code)
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


@transaction.atomic
def totp_enrol_confirm(*, user: AbstractBaseUser, code: str) -> list[str]:
    """Turn 2FA on with the first code from the app; returns the new recovery codes (the only
    time they are shown, besides a regeneration)."""
    if user_has_mfa(user):
        raise MfaError("Two-factor sign-in is already on.", code="mfa_already_enabled")
    device = _totp(user, confirmed=False, lock=True)
    if device is None:
        raise MfaError("Start the enrolment first.", code="mfa_not_pending")
    digits = normalize_code(code)
    if len(digits) != device.digits or not device.verify_token(digits):
        raise MfaError("Wrong code: enter the 6-digit code your authenticator app shows now.",
                       code="invalid_code")
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(user)
    audit_record(action="mfa.enable", obj=user, extra={"method": "totp"})
    return codes


@transaction.atomic
def mfa_verify(*, user: AbstractBaseUser, code: str) -> str | None:
    """Check a sign-in code: the app's current code (each time step once) or an unused recovery
    code (then used up). Returns "totp", "recovery_code", or None when wrong."""
    try:
        digits = normalize_code(code)
    except ValueError:
        return None
    totp = _totp(user, lock=True)
    if totp is None:
        return None
    if len(digits) == totp.digits:
        return "totp" if totp.verify_token(digits) else None
    recovery = _recovery(user, lock=True)
    if recovery is not None and recovery.verify_token(digits):
        left = recovery.token_set.count()
        audit_record(action="mfa.recovery_code_used", obj=user, actor=user,
                     extra={"recovery_codes_left": left})
        return "recovery_code"
    return None


def _check_proof(user: AbstractBaseUser, code: str | None, password: str | None) -> None:
    if code:
        if mfa_verify(user=user, code=code) is None:
            raise MfaError("Wrong code.", code="invalid_code")
    elif password:
        if not user.check_password(password):
            raise MfaError("Wrong password.", code="invalid_password")
    else:
        raise MfaError("Confirm with a code from your authenticator app (or a recovery code) "
                       "or your password.", code="proof_required")


@transaction.atomic
def mfa_disable(*, user: AbstractBaseUser, code: str | None = None,
                password: str | None = None) -> None:
    """Turn 2FA off (the app and the recovery codes), proven with a code or the password."""
    if not user_has_mfa(user):
        raise MfaError("Two-factor sign-in is not on.", code="mfa_not_enabled")
    _check_proof(user, code, password)
    mfa_remove(user=user)
    audit_record(action="mfa.disable", obj=user, extra={"proof": "code" if code else
                                                         "password"})


def mfa_remove(*, user: AbstractBaseUser) -> None:
    """Delete every 2FA device of the user (no proof asked: callers check who may)."""
    TOTPDevice.objects.filter(user_id=user.pk).delete()
    StaticDevice.objects.filter(user_id=user.pk).delete()


@transaction.atomic
def recovery_codes_regenerate(*, user: AbstractBaseUser, code: str | None = None,
                              password: str | None = None) -> list[str]:
    """New recovery codes (the old ones stop working), proven with a code or the password."""
    if not user_has_mfa(user):
        raise MfaError("Two-factor sign-in is not on.", code="mfa_not_enabled")
    _check_proof(user, code, password)
    codes = _new_recovery_codes(user)
    audit_record(action="mfa.recovery_codes_regenerate", obj=user)
    return codes


def login_second_factor(*, request: HttpRequest, user: AbstractBaseUser, code: str) -> None:
    """The second step of a sign-in whose password was right, for every login door. Nothing to
    do for an account without 2FA; else MfaError `mfa_required` without a code, and
    `invalid_code` for a wrong one, which is also a failed login for the lockout (django-axes
    counts it, keyed like a wrong password, and may lock the email and address out)."""
    if not user_has_mfa(user):
        return
    if not code:
        raise MfaError("This account has two-factor sign-in: send the 6-digit code of the "
                       "authenticator app (or a recovery code) as `code`.", code="mfa_required")
    if mfa_verify(user=user, code=code) is None:
        user_login_failed.send(sender=__name__, request=request,
                               credentials={"email": user.get_username()})
        raise MfaError("Wrong two-factor code.", code="invalid_code")
