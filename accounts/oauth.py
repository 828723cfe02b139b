"""OAuth sign-in (Google, GitHub) through django-allauth: off unless configured.

A provider is on when both its client id and secret are set (WFAIB_OAUTH_GOOGLE_CLIENT_ID /
_SECRET, WFAIB_OAUTH_GITHUB_CLIENT_ID / _SECRET); only then are allauth's apps, middleware and
URLs (/accounts/...) installed; users sign in at /accounts/login/. Register the
callback URL https://<host>/accounts/<google|github>/login/callback/ with the provider, then
run `manage.py migrate` (allauth's tables).

A user with two-factor sign-in on (accounts/mfa.py) still enters a code after the provider
sends them back: the login is held and they go to the admin's code step.

Sign-in matches an existing user by the provider-verified email. New users are created only
when WFAIB_OAUTH_SIGNUP=1, and never as staff: an administrator grants admin access. allauth's
own password login and signup are off (SOCIALACCOUNT_ONLY): passwords go through our login,
which has the lockout.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .mfa import user_has_mfa
from .views import code_step

try:  # allauth is installed as a dependency, but its apps only when a provider is configured
    from allauth.account.adapter import DefaultAccountAdapter
    from allauth.account.internal.stagekit import clear_login
    from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
except (ImportError, RuntimeError):  # RuntimeError: allauth.account's models, app not installed
    DefaultAccountAdapter = DefaultSocialAccountAdapter = object  # type: ignore[misc,assignment]

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def providers() -> list[str]:
    return list(getattr(settings, "OAUTH_PROVIDERS", []))


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc,valid-type]
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return bool(getattr(settings, "OAUTH_SIGNUP", False))

    def pre_login(self, request: HttpRequest, user: Any, **kwargs: Any) -> HttpResponse | None:
        response = super().pre_login(request, user, **kwargs)
        if response is None and user_has_mfa(user):
            clear_login(request)  # allauth's held login; ours waits for the code instead
            return code_step(request, user, backend=MODEL_BACKEND,
                             next_url=kwargs.get("redirect_url") or settings.LOGIN_REDIRECT_URL)
        return response


class SocialAccountAdapter(DefaultSocialAccountAdapter):  # type: ignore[misc,valid-type]
    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        return bool(getattr(settings, "OAUTH_SIGNUP", False))
