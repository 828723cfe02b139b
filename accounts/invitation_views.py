"""The page an invitation email links to: `/invitations/<key>`. Signed in as the invited email:
one button joins the project. Without an account: choose a password, the account is created
(with its personal project, allowed to open the builder) and signed in. With an account but
signed out: a link to sign in first. A used, expired or withdrawn link says so (410)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import login
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from .models import User
from .services import ProjectRuleError, invitation_accept, invitation_by_key, invitation_check

BACKEND = "django.contrib.auth.backends.ModelBackend"


class NewAccountForm(forms.Form):
    password1 = forms.CharField(label="Password", strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}), help_text=password_validators_help_text_html())
    password2 = forms.CharField(label="Password (again)", strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            raise forms.ValidationError("The two passwords differ.")
        return data


def invitation_view(request: HttpRequest, key: str) -> HttpResponse:
    invitation = invitation_by_key(key)
    if invitation is None:
        raise Http404("No such invitation.")
    context = {**admin.site.each_context(request), "title": f"Join {invitation.project.name}",
               "invitation": invitation, "form": None, "problem": None}
    user = request.user if request.user.is_authenticated else None
    try:
        invitation_check(invitation)
    except ProjectRuleError as exc:
        context["problem"] = exc.message
        return TemplateResponse(request, "accounts/invitation.html", context, status=exc.status)
    if user is not None and user.email.lower() != invitation.email:
        context["problem"] = (f"This invitation is for {invitation.email}; you are signed in as "
                              f"{user.email}.")
        return TemplateResponse(request, "accounts/invitation.html", context, status=403)
    has_account = User.objects.filter(email__iexact=invitation.email).exists()
    context["sign_in_url"] = (reverse("admin:login") + "?next="
                              + reverse("invitation", args=[key]))
    context["needs_sign_in"] = user is None and has_account
    form = NewAccountForm(request.POST or None) if user is None and not has_account else None
    context["form"] = form
    if request.method == "POST" and not context["needs_sign_in"]:
        if form is not None and not form.is_valid():
            return TemplateResponse(request, "accounts/invitation.html", context, status=400)
        try:
            membership = invitation_accept(
                key=key, user=user,
                password=form.cleaned_data["password1"] if form is not None else None)
        except ProjectRuleError as exc:
            if form is not None and exc.code == "invalid":
                form.add_error("password1", exc.message.removeprefix("password: "))
            else:
                context["problem"] = exc.message
            return TemplateResponse(request, "accounts/invitation.html", context,
                                    status=exc.status)
        if user is None:
            login(request, membership.user, backend=BACKEND)
        messages.success(request, f"You joined {membership.project.name} as {membership.role}.")
        return HttpResponseRedirect(reverse("admin:index"))
    return TemplateResponse(request, "accounts/invitation.html", context)
