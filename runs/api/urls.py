"""/api/runs..., /api/workflows/{id}/runs."""

from django.urls import path

from .expressions import ExpressionCheckView
from .views import RunViewSet, WorkflowRunsViewSet, WorkflowTestEventViewSet

urlpatterns = [
    path("runs", RunViewSet.as_view({"get": "list"}), name="run-list"),
    path("runs/<int:pk>", RunViewSet.as_view({"get": "retrieve", "post": "queue"}),
         name="run-detail"),
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
]
