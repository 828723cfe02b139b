"""/api/runs..., /api/workflows/{id}/runs, the cost ledger (/api/usage...)."""

from django.urls import path

from .expressions import ExpressionCheckView
from .usage import ProjectUsageView, UsageView, WorkflowUsageView
from .views import RunViewSet, WorkflowRunsViewSet, WorkflowTestEventViewSet

urlpatterns = [
    path("runs", RunViewSet.as_view({"get": "list"}), name="run-list"),
    path("runs/<int:pk>", RunViewSet.as_view({"get": "retrieve", "post": "queue"}),
         name="run-detail"),
    path("runs/<int:pk>/partial", RunViewSet.as_view({"get": "partial"}), name="run-partial"),
    path("runs/<int:pk>/cancel", RunViewSet.as_view({"post": "cancel"}), name="run-cancel"),
    path("runs/<int:pk>/retry", RunViewSet.as_view({"post": "retry"}), name="run-retry"),
    path("runs/<int:pk>/files/<int:file_id>", RunViewSet.as_view({"get": "download"}),
         name="run-file"),
    path("runs/retry", RunViewSet.as_view({"post": "bulk_retry"}), name="run-bulk-retry"),
    path("expressions/check", ExpressionCheckView.as_view(), name="expressions-check"),
    path("workflows/<int:pk>/runs", WorkflowRunsViewSet.as_view({"post": "create"}),
         name="workflow-runs"),
    path("workflows/<int:pk>/listen", WorkflowTestEventViewSet.as_view({"post": "listen"}),
         name="workflow-listen"),
    path("workflows/<int:pk>/test-event",
         WorkflowTestEventViewSet.as_view({"get": "test_event"}), name="workflow-test-event"),
    path("usage", UsageView.as_view(), name="usage"),
    path("workflows/<int:pk>/usage", WorkflowUsageView.as_view(), name="workflow-usage"),
    path("projects/<int:pk>/usage", ProjectUsageView.as_view(), name="project-usage"),
]
