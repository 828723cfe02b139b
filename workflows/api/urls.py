"""/api/workflows..., /api/credentials..., /api/credential-kinds, /api/node-types."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import (
    CredentialKindsView,
    CredentialViewSet,
    NodeTypesView,
    OAuth2CallbackView,
    WorkflowViewSet,
)

router = SimpleRouter(trailing_slash=False)
router.register("workflows", WorkflowViewSet, basename="workflow")
router.register("credentials", CredentialViewSet, basename="credential")

urlpatterns = [
    path("node-types", NodeTypesView.as_view(), name="node-types"),
    path("credential-kinds", CredentialKindsView.as_view(), name="credential-kinds"),
    path("oauth2/callback", OAuth2CallbackView.as_view(), name="oauth2-callback"),
    *router.urls,
]
