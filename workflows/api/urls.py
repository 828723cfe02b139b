"""/api/workflows..., /api/credentials..., /api/credential-kinds, /api/variables...,
/api/folders..., /api/node-types, /api/workflow-templates."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .folders import FolderViewSet
from .pins import WorkflowPinsViewSet
from .variables import VariableViewSet
from .views import (
    CredentialKindsView,
    CredentialViewSet,
    NodeTypesView,
    OAuth2CallbackView,
    TemplatesView,
    WorkflowViewSet,
)

router = SimpleRouter(trailing_slash=False)
router.register("workflows", WorkflowViewSet, basename="workflow")
router.register("credentials", CredentialViewSet, basename="credential")
router.register("variables", VariableViewSet, basename="variable")
router.register("folders", FolderViewSet, basename="folder")

urlpatterns = [
    path("node-types", NodeTypesView.as_view(), name="node-types"),
    path("workflow-templates", TemplatesView.as_view(), name="workflow-templates"),
    path("credential-kinds", CredentialKindsView.as_view(), name="credential-kinds"),
    path("oauth2/callback", OAuth2CallbackView.as_view(), name="oauth2-callback"),
    path("workflows/<int:pk>/pins", WorkflowPinsViewSet.as_view({"get": "list"}),
         name="workflow-pins"),
    path("workflows/<int:pk>/pins/<str:node_id>",
         WorkflowPinsViewSet.as_view({"put": "update", "delete": "destroy"}),
         name="workflow-pin"),
    *router.urls,
]
