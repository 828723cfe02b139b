"""Password change and reset by email, on Django's own forms, tokens and email backend.

    password_change(user=user, old_password=..., new_password=..., request=request)
    password_reset_request(email="ada@example.com", request=request)  # mails a link, or not
    password_reset_confirm(uid=..., token=..., new_password=...)      # -> the user

Both the admin's pages (accounts/views.py) and the API (accounts/api/password.py) call these.
New passwords go through AUTH_PASSWORD_VALIDATORS. A reset link is Django's token: it holds the
password hash and last login, so it works once, and for PASSWORD_RESET_TIMEOUT seconds. A reset
also revokes the user's API tokens (whoever knew the old password may have made some);
sessions end by themselves when the password changes.
"""

from __future__ import annotations

import logging

from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.http import HttpRequest
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from audit.services import audit_record

from .models import ApiToken, User

log = logging.getLogger(__name__)

EMAIL_TEMPLATE = "registration/wfaib_password_reset_email.txt"
SUBJECT_TEMPLATE = "registration/wfaib_password_reset_subject.txt"
# The form's field names -> the API's.
_FIELD_NAMES = {"old_password": "old_password", "new_password1": "new_password",
                "new_password2": "new_password", "email": "email"}


class PasswordRejected(Exception):
    """Bad input: `fields` maps each API field name to its messages; `code` is the API code."""

    def __init__(self, fields: dict[str, list[str]], code: str = "invalid") -> None:
        self.fields = fields
        self.code = code
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items()))


def _rejected(form, code: str = "invalid") -> PasswordRejected:
    fields: dict[str, list[str]] = {}
    for name, errors in form.errors.items():
        fields.setdefault(_FIELD_NAMES.get(name, name), []).extend(errors)
    return PasswordRejected(fields, code)


@transaction.atomic
def password_change(*, user: User, old_password: str, new_password: str,
                    request: HttpRequest | None = None) -> None:
    """Change a signed-in user's password; the session making the change stays signed in."""
    form = PasswordChangeForm(user, {"old_password": old_password,
                                     "new_password1": new_password,
                                     "new_password2": new_password})
    if not form.is_valid():
        wrong_old = "old_password" in form.errors
        raise _rejected(form, "wrong_password" if wrong_old else "invalid")
    form.save()
    if request is not None and hasattr(request, "session"):
        update_session_auth_hash(request, user)
    audit_record(action="user.password_change", obj=user, actor=user)


def password_reset_request(*, email: str, request: HttpRequest) -> None:
    """Mail a reset link to the active user with this email, if any. The caller answers the
    same either way, so the answer does not tell who has an account. The mail is sent when
    the transaction commits; a mail server failure is logged, not shown."""
    form = PasswordResetForm({"email": email})
    if not form.is_valid():
        raise _rejected(form)
    users = list(form.get_users(form.cleaned_data["email"]))
    for user in users:  # the actor is whoever is signed in, usually nobody
        audit_record(action="user.password_reset_request", obj=user)

    def send() -> None:
        try:
            form.save(request=request, use_https=request.is_secure(),
                      email_template_name=EMAIL_TEMPLATE, subject_template_name=SUBJECT_TEMPLATE)
        except OSError:  # SMTP down: the person can ask again; never reveal it to the caller
            log.exception("could not send the password reset email")

    if users:
        transaction.on_commit(send)


def reset_user(uid: str) -> User | None:
    """The user a reset link's uid names, or None."""
    try:
        pk = force_str(urlsafe_base64_decode(uid))
        return User.objects.get(pk=pk)
    except (TypeError, ValueError, OverflowError, User.DoesNotExist):
        return None


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Set a new password with a reset link's uid and token (single use)."""
    user = reset_user(uid)
    if user is None or not user.is_active or not default_token_generator.check_token(user,
                                                                                      token):
        raise PasswordRejected({"token": ["This reset link is invalid, used or expired; "
                                          "ask for a new one."]}, "invalid_token")
    form = SetPasswordForm(user, {"new_password1": new_password, "new_password2": new_password})
    if not form.is_valid():
        raise _rejected(form)
    form.save()
    password_reset_done(user=user)
    return user


def password_reset_done(*, user: User) -> None:
    """After a reset (API or page): revoke the user's API tokens and record it."""
    revoked, _ = ApiToken.objects.filter(user=user).delete()
    audit_record(action="user.password_reset", obj=user, actor=user,
                 extra={"tokens_revoked": revoked})
