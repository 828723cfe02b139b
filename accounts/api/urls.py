"""/api/auth/... routes (login, tokens); /api/projects... and /api/invitations/accept are in
`project_urls`."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import ApiTokenViewSet, LoginView, LogoutView, MeView

router = SimpleRouter(trailing_slash=False)
router.register("tokens", ApiTokenViewSet, basename="api-token")

urlpatterns = [
    path("login", LoginView.as_view(), name="auth-login"),
    path("logout", LogoutView.as_view(), name="auth-logout"),
    path("me", MeView.as_view(), name="auth-me"),
    *router.urls,
]
