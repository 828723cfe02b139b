"""The URL map: the admin, and the JSON API under /api/ (each app's api/urls.py)."""

import os

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from runs.webhooks.views import WebhookView

from .health import health

handler404 = "wfaib.exceptions.json_404"
handler500 = "wfaib.resilience.server_error"

api = [
    path("health", health, name="health"),
    path("auth/", include("accounts.api.urls")),
    path("", include("workflows.api.urls")),
    path("", include("runs.api.urls")),
    path("webhook/<int:workflow_id>", WebhookView.as_view(), name="webhook"),
    path("resume/", include("runs.resume")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: no inline script, so the CSP holds.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/", include(api)),
]

if settings.OAUTH_PROVIDERS:  # OAuth sign-in, only when configured (accounts/oauth.py)
    urlpatterns.append(path("accounts/", include("allauth.urls")))

if os.environ.get("WFAIB_BENCH") == "1":  # the benchmark floor (bench/), never in production
    urlpatterns.append(path("", include("bench.floor_views")))
