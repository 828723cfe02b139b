"""Two-factor sign-in: a TOTP authenticator app plus one-time recovery codes.

    enrolment = totp_enrol_start(user=user)          # secret, otpauth:// URI, QR code (SVG)
    codes = totp_enrol_confirm(user=user, code="123456")   # on; the recovery codes, shown once
    mfa_verify(user=user, code="123456")             # "totp" | "recovery_code" | None
    mfa_disable(user=user, code=...) / mfa_disable(user=user, password=...)
    recovery_codes_regenerate(user=user, code=...)   # the old codes stop working
    user_has_mfa(user)                               # for a project that requires 2FA

The authenticators live in django-allauth's MFA table (`allauth.mfa.Authenticator`), and the
code arithmetic (RFC 6238 TOTP, seeded recovery codes marked used in the row) is allauth's.
What is ours: the TOTP secret and recovery seed are encrypted at rest with the credential keys
(`MfaAdapter`); an enrolment is a TOTP row marked `pending` until its first code is confirmed,
so a half-done enrolment never turns 2FA on; and a TOTP code is refused once its time step (or
an earlier one) has signed in, recorded in the row under a row lock, so a replay is refused by
every web process (allauth's own replay guard is kept in the cache, which is per process in the
embedded mode).

Wrong codes on sign-in are counted by the login lockout (the callers send `user_login_failed`).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from allauth.core.internal.cryptokit import compare_user_code
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.adapter import DefaultMFAAdapter, get_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.services import audit_record
from workflows.crypto import decrypt_json, encrypt_json

TOTP = Authenticator.Type.TOTP
RECOVERY = Authenticator.Type.RECOVERY_CODES
_CODE = re.compile(r"^([0-9]{6}|[0-9]{8})$")
# Longest input looked at: 8 digits with a few separators ("1234 5678", "1234-5678").
MAX_CODE_LENGTH = 16


class MfaError(Exception):
    """A refused two-factor operation: `code` is the API's machine code."""

    code = "mfa_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code or self.code


class MfaAdapter(DefaultMFAAdapter):
    """allauth's MFA adapter with secrets encrypted at rest (workflows.crypto, Fernet) and a
    pending enrolment not counting as 2FA being on."""

    def encrypt(self, text: str) -> str:
        return encrypt_json(text)

    def decrypt(self, encrypted_text: str) -> str:
        return str(decrypt_json(encrypted_text))

    def is_mfa_enabled(self, user: AbstractBaseUser, types: Any = None) -> bool:
        return user_has_mfa(user)


def normalize_code(code: str) -> str:
    """A code as typed ("123 456", "1234-5678") -> its digits; ValueError unless it is 6 digits
    (authenticator app) or 8 (recovery code)."""
    if not isinstance(code, str) or len(code) > MAX_CODE_LENGTH:
        raise ValueError("too long")
    digits = re.sub(r"[\s-]", "", code)
    if not _CODE.match(digits):
        raise ValueError("not a code")
    return digits


def _confirmed(user: AbstractBaseUser, *, lock: bool = False) -> Authenticator | None:
    """The user's confirmed TOTP row (a user has at most one TOTP row; rows made by allauth's
    own pages carry no `pending` key and count as confirmed)."""
    rows = Authenticator.objects.filter(user_id=user.pk, type=TOTP)
    row = (rows.select_for_update() if lock else rows).first()
    return row if row is not None and not row.data.get("pending") else None


def user_has_mfa(user: AbstractBaseUser) -> bool:
    """True when the user signs in with a second factor (a confirmed authenticator app)."""
    if not getattr(user, "pk", None):
        return False
    return _confirmed(user) is not None


def _recovery(user: AbstractBaseUser) -> Authenticator | None:
    return Authenticator.objects.filter(user_id=user.pk, type=RECOVERY).first()


def mfa_status(user: AbstractBaseUser) -> dict[str, Any]:
    """What a user may see about their 2FA: never a secret or a code."""
    totp = _confirmed(user)
    recovery = _recovery(user) if totp else None
    return {
        "enabled": totp is not None,
        "enabled_at": totp.created_at if totp else None,
        "last_used_at": totp.last_used_at if totp else None,
        "recovery_codes_left": len(RecoveryCodes(recovery).get_unused_codes())
        if recovery else 0,
    }


@dataclasses.dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str
    qr_svg: str


def _enrolment(user: AbstractBaseUser, secret: str) -> Enrolment:
    adapter = get_adapter()
    uri = adapter.build_totp_url(user, secret)
    return Enrolment(secret=secret, uri=uri, qr_svg=adapter.build_totp_svg(uri))


@transaction.atomic
def totp_enrol_start(*, user: AbstractBaseUser) -> Enrolment:
    """Start (or restart) enrolment: a new secret, kept pending until a code confirms it."""
    if user_has_mfa(user):
        raise MfaError("Two-factor sign-in is already on; turn it off first to change the "
                       "authenticator.", code="mfa_already_enabled")
    secret = generate_totp_secret()
    Authenticator.objects.update_or_create(
        user_id=user.pk, type=TOTP,
        defaults={"data": {"secret": get_adapter().encrypt(secret), "pending": True},
                  "created_at": timezone.now(), "last_used_at": None})
    return _enrolment(user, secret)


def totp_pending_enrolment(*, user: AbstractBaseUser) -> Enrolment | None:
    """The enrolment started and not yet confirmed (for the admin page to show it again)."""
    row = Authenticator.objects.filter(user_id=user.pk, type=TOTP).first()
    if row is None or not row.data.get("pending"):
        return None
    return _enrolment(user, get_adapter().decrypt(row.data["secret"]))


def _match_step(secret: str, code: str) -> int | None:
    """The time step whose code `code` is (within the tolerance window), or None."""
    for counter in yield_hotp_counters_from_time():
        if compare_user_code(actual=code, expected=format_hotp_value(hotp_value(secret,
                                                                               counter))):
            return counter
    return None


def _use_totp(row: Authenticator, code: str) -> bool:
    """Check `code` against a locked TOTP row; a step at or before the last one used is a
    replay. Records the step and the time of use."""
    step = _match_step(get_adapter().decrypt(row.data["secret"]), code)
    if step is None or step <= row.data.get("last_step", -1):
        return False
    row.data["last_step"] = step
    row.last_used_at = timezone.now()
    return True


def _new_recovery_codes(user: AbstractBaseUser) -> list[str]:
    Authenticator.objects.filter(user_id=user.pk, type=RECOVERY).delete()
    return RecoveryCodes.activate(user).generate_codes()


@transaction.atomic
def totp_enrol_confirm(*, user: AbstractBaseUser, code: str) -> list[str]:
    """Turn 2FA on with the first code from the app; returns the new recovery codes (the only
    time they are shown, besides a regeneration)."""
    row = Authenticator.objects.select_for_update().filter(
        user_id=user.pk, type=TOTP).first()
    if row is None or not row.data.get("pending"):
        raise MfaError("Start the enrolment first." if row is None else
                       "Two-factor sign-in is already on.",
                       code="mfa_not_pending" if row is None else "mfa_already_enabled")
    if not _use_totp(row, normalize_code(code)):
        raise MfaError("Wrong code: enter the 6-digit code your authenticator app shows now.",
                       code="invalid_code")
    row.data["pending"] = False
    row.created_at = timezone.now()
    row.save()
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
    row = _confirmed(user, lock=True)
    if row is None:
        return None
    if len(digits) == mfa_settings.TOTP_DIGITS:
        if _use_totp(row, digits):
            row.save(update_fields=["data", "last_used_at"])
            return "totp"
        return None
    recovery = _recovery(user)
    codes = RecoveryCodes(recovery) if recovery is not None else None
    if codes is not None and codes.validate_code(digits):
        codes.instance.record_usage()
        left = len(codes.get_unused_codes())
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
    Authenticator.objects.filter(user_id=user.pk, type__in=[TOTP, RECOVERY]).delete()
    audit_record(action="mfa.disable", obj=user, extra={"proof": "code" if code else
                                                         "password"})


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
