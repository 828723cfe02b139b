"""/api/workflows..., /api/credentials..., /api/variables..., /api/node-types."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .variables import VariableViewSet
from .views import CredentialViewSet, NodeTypesView, TemplatesView, WorkflowViewSet

router = SimpleRouter(trailing_slash=False)
router.register("workflows", WorkflowViewSet, basename="workflow")
router.register("credentials", CredentialViewSet, basename="credential")
router.register("variables", VariableViewSet, basename="variable")

urlpatterns = [
    path("node-types", NodeTypesView.as_view(), name="node-types"),
    path("workflow-templates", TemplatesView.as_view(), name="workflow-templates"),
    *router.urls,
]
