"""The URL map: the admin, and the JSON API under /api/ (each app's api/urls.py)."""

import os

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularSwaggerSplitView

from accounts.invitation_views import invitation_view
from runs.webhooks.views import HookTestView, HookView, WebhookView

from .health import health
from .metrics import metrics_view
from .schema_view import SchemaView

handler404 = "wfaib.exceptions.json_404"
handler500 = "wfaib.resilience.server_error"

api = [
    # The public doors first: resolving a URL tries the patterns in order, and the routers'
    # patterns below made a webhook's resolve cost ~37 us (bench/RESULTS.md).
    path("webhook/<int:workflow_id>", WebhookView.as_view(), name="webhook"),
    path("resume/", include("runs.resume")),
    path("health", health, name="health"),
    path("auth/", include("accounts.api.urls")),
    path("", include("accounts.api.project_urls")),
    path("", include("workflows.api.urls")),
    path("", include("runs.api.urls")),
    path("schema/", SchemaView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: no inline script, so the CSP holds.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    # Account pages (sign-in with 2FA, password change and reset) ahead of the admin's own.
    path("admin/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("invitations/<str:key>", invitation_view, name="invitation"),
    # Webhooks by custom path (or id), and the editor's test URL (runs/webhooks/listening.py)
    path("hook/test/<str:ref>", HookTestView.as_view(), name="webhook-test"),
    path("hook/<str:ref>", HookView.as_view(), name="webhook-path"),
    path("api/", include(api)),
    path("metrics", metrics_view, name="metrics"),  # Prometheus; closed unless configured
]

if settings.OAUTH_PROVIDERS:  # OAuth sign-in, only when configured (accounts/oauth.py)
    urlpatterns.append(path("accounts/", include("allauth.urls")))

if os.environ.get("WFAIB_BENCH") == "1":  # the benchmark floor (bench/), never in production
    urlpatterns.append(path("", include("bench.floor_views")))
