"""/api/auth/... routes (login, tokens); /api/projects... and /api/invitations/accept are in
`project_urls`."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .mfa import MfaDisableView, MfaStatusView, RecoveryCodesView, TotpConfirmView, TotpEnrolView
from .password import PasswordChangeView, PasswordResetConfirmView, PasswordResetView
from .views import ApiTokenViewSet, LoginView, LogoutView, MeView

router = SimpleRouter(trailing_slash=False)
router.register("tokens", ApiTokenViewSet, basename="api-token")

urlpatterns = [
    path("login", LoginView.as_view(), name="auth-login"),
    path("logout", LogoutView.as_view(), name="auth-logout"),
    path("me", MeView.as_view(), name="auth-me"),
    path("password", PasswordChangeView.as_view(), name="auth-password"),
    path("password/reset", PasswordResetView.as_view(), name="auth-password-reset"),
    path("password/reset/confirm", PasswordResetConfirmView.as_view(),
         name="auth-password-reset-confirm"),
    path("mfa", MfaStatusView.as_view(), name="auth-mfa"),
    path("mfa/totp", TotpEnrolView.as_view(), name="auth-mfa-totp"),
    path("mfa/totp/confirm", TotpConfirmView.as_view(), name="auth-mfa-totp-confirm"),
    path("mfa/disable", MfaDisableView.as_view(), name="auth-mfa-disable"),
    path("mfa/recovery-codes", RecoveryCodesView.as_view(), name="auth-mfa-recovery-codes"),
    *router.urls,
]
