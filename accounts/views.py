"""The admin's account pages: sign-in with a second step for two-factor accounts, password change
and reset (Django's own views, audited), and the two-factor settings page.

Mounted under /admin/ by accounts/urls.py, ahead of the admin site's own URLs, so
`admin:login` and `admin:password_change` resolve here. The second sign-in step keeps only the
user id and the time of the password step in the session (never a signed-in session) until the
code is right.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME, login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views import View
from django.views.generic import FormView

from audit.services import audit_record

from .lockout import lockout_response
from .mfa import (
    MAX_CODE_LENGTH,
    MfaError,
    login_second_factor,
    mfa_disable,
    mfa_status,
    recovery_codes_regenerate,
    totp_enrol_confirm,
    totp_enrol_start,
    totp_pending_enrolment,
    user_has_mfa,
)
from .models import User
from .password import (
    EMAIL_TEMPLATE,
    SUBJECT_TEMPLATE,
    password_reset_done,
    password_reset_request,
)

PENDING = "wfaib_mfa_pending"  # session key of a password step waiting for its code
PENDING_MAX_AGE = 300  # seconds to enter the code before the password is asked again


class AdminContextMixin:
    """The admin site's template context (header, theme, user links) for pages outside it."""

    title = ""
    request: HttpRequest

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        context.update(admin.site.each_context(self.request))
        if self.title:
            context.setdefault("title", self.title)
        return context


def _safe_next(request: HttpRequest, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()},
                                                 require_https=request.is_secure()):
        return value
    return reverse("admin:index")


# -- sign-in ---------------------------------------------------------------------------------

class AdminLoginView(AdminContextMixin, auth_views.LoginView):
    """The admin's login form (as admin.site.login); an account with 2FA goes on to the code
    step instead of being signed in."""

    form_class = AdminAuthenticationForm
    template_name = "admin/login.html"
    title = "Log in"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "GET" and admin.site.has_permission(request):
            return HttpResponseRedirect(self.get_success_url())
        return super().dispatch(request, *args, **kwargs)

    def get_default_redirect_url(self) -> str:
        return reverse("admin:index")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update({"subtitle": None, "app_path": self.request.get_full_path(),
                        "username": self.request.user.get_username(),
                        REDIRECT_FIELD_NAME: self.get_success_url()})
        return context

    def form_valid(self, form: AdminAuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if user_has_mfa(user):
            return code_step(self.request, user, backend=user.backend,
                             next_url=self.get_success_url())
        return super().form_valid(form)


def code_step(request: HttpRequest, user: User, *, backend: str, next_url: str) -> HttpResponse:
    """Hold a sign-in whose first factor passed (password, or OAuth: accounts/oauth.py) until
    the code step; the session stays signed out until then."""
    request.session[PENDING] = {"user": user.pk, "backend": backend, "at": time.time()}
    query = urlencode({REDIRECT_FIELD_NAME: next_url})
    return HttpResponseRedirect(f"{reverse('admin_login_code')}?{query}")


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code", max_length=MAX_CODE_LENGTH, strip=True,
        help_text="The 6-digit code your authenticator app shows, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "autofocus": True, "autocapitalize": "off",
                                      "spellcheck": "false"}))


class AdminLoginCodeView(AdminContextMixin, FormView):
    """Second sign-in step: the authenticator app's code or a recovery code. A wrong code is a
    failed login for the lockout."""

    form_class = CodeForm
    template_name = "admin/mfa_login_code.html"
    title = "Two-factor sign-in"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        pending = request.session.get(PENDING) or {}
        self.user = User.objects.filter(pk=pending.get("user"), is_active=True).first()
        if self.user is None or time.time() - pending.get("at", 0) > PENDING_MAX_AGE:
            request.session.pop(PENDING, None)
            messages.warning(request, "Sign in again: the code was not entered in time.")
            return redirect("admin:login")
        self.backend = pending["backend"]
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update({"email": self.user.email, REDIRECT_FIELD_NAME:
                        self.request.GET.get(REDIRECT_FIELD_NAME, "")})
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if AxesProxyHandler.is_locked(request, credentials={"username": self.user.email}):
            return lockout_response(request)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: CodeForm) -> HttpResponse:
        try:
            login_second_factor(request=self.request, user=self.user,
                                code=form.cleaned_data["code"])
        except MfaError as exc:
            form.add_error("code", str(exc))
            return self.form_invalid(form)
        self.request.session.pop(PENDING, None)
        login(self.request, self.user, backend=self.backend)
        return HttpResponseRedirect(_safe_next(self.request,
                                               self.request.GET.get(REDIRECT_FIELD_NAME)))


# -- password --------------------------------------------------------------------------------

class AdminPasswordChangeView(AdminContextMixin, auth_views.PasswordChangeView):
    """The admin's password change (as admin.site.password_change), audited."""

    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("admin:password_change_done")
    title = "Password change"

    def form_valid(self, form: forms.Form) -> HttpResponse:
        response = super().form_valid(form)
        audit_record(action="user.password_change", obj=self.request.user)
        return response


class PasswordResetView(AdminContextMixin, auth_views.PasswordResetView):
    """Ask for a reset link by email (the page answers the same for any address)."""

    email_template_name = EMAIL_TEMPLATE
    subject_template_name = SUBJECT_TEMPLATE
    title = "Password reset"

    def form_valid(self, form: forms.Form) -> HttpResponse:
        password_reset_request(email=form.cleaned_data["email"], request=self.request)
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetDoneView(AdminContextMixin, auth_views.PasswordResetDoneView):
    title = "Password reset sent"


class PasswordResetConfirmView(AdminContextMixin, auth_views.PasswordResetConfirmView):
    """Choose a new password from the emailed link (works once); revokes API tokens."""

    title = "Enter new password"

    def form_valid(self, form: forms.Form) -> HttpResponse:
        response = super().form_valid(form)
        password_reset_done(user=self.user)
        return response


class PasswordResetCompleteView(AdminContextMixin, auth_views.PasswordResetCompleteView):
    title = "Password reset complete"


# -- two-factor settings ---------------------------------------------------------------------

class ProofForm(forms.Form):
    code = forms.CharField(label="Code", max_length=MAX_CODE_LENGTH, required=False,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code",
                                                         "inputmode": "numeric"}))
    password = forms.CharField(label="or your password", required=False, strip=False,
                               widget=forms.PasswordInput(
                                   attrs={"autocomplete": "current-password"}))


class TwoFactorView(View):
    """/admin/account/two-factor/: turn 2FA on (scan, confirm with a code, note the recovery
    codes), off, or get new recovery codes."""

    template_name = "admin/mfa_settings.html"

    def render(self, request: HttpRequest, **context: Any) -> HttpResponse:
        user = request.user
        enrolment = totp_pending_enrolment(user=user)
        qr = (base64.b64encode(enrolment.qr_svg.encode()).decode() if enrolment else "")
        context = {**admin.site.each_context(request), "title": "Two-factor sign-in",
                   "status": mfa_status(user), "enrolment": enrolment, "qr_base64": qr,
                   "secret_groups": _groups(enrolment.secret) if enrolment else [],
                   "code_form": context.pop("code_form", None) or CodeForm(),
                   "proof_form": context.pop("proof_form", None) or ProofForm(), **context}
        return render(request, self.template_name, context)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render(request)

    def post(self, request: HttpRequest) -> HttpResponse:
        action = request.POST.get("action")
        user = request.user
        try:
            if action == "start":
                totp_enrol_start(user=user)
                return redirect("admin_two_factor")
            if action == "confirm":
                form = CodeForm(request.POST)
                if not form.is_valid():
                    return self.render(request, code_form=form)
                codes = totp_enrol_confirm(user=user, code=form.cleaned_data["code"])
                messages.success(request, "Two-factor sign-in is on.")
                return self.render(request, recovery_codes=codes)
            proof = ProofForm(request.POST)
            if action not in {"disable", "regenerate"} or not proof.is_valid():
                return self.render(request, proof_form=proof)
            if action == "disable":
                mfa_disable(user=user, **proof.cleaned_data)
                messages.success(request, "Two-factor sign-in is off.")
                return redirect("admin_two_factor")
            codes = recovery_codes_regenerate(user=user, **proof.cleaned_data)
            messages.success(request, "New recovery codes: the old ones no longer work.")
            return self.render(request, recovery_codes=codes)
        except ValueError:  # a code that is not 6 or 8 digits
            messages.error(request, "Enter the 6-digit code of your authenticator app or an "
                                    "8-digit recovery code.")
        except MfaError as exc:
            messages.error(request, str(exc))
        return self.render(request)


def _groups(secret: str) -> list[str]:
    """The secret in groups of four, easier to type into an app."""
    return [secret[i:i + 4] for i in range(0, len(secret), 4)]
