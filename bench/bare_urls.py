"""The bare stack's URLs (bench/bare_settings.py): the floor, and a health probe."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from .floor_views import floor


def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b'{"status": "ok"}', content_type="application/json")


urlpatterns = [
    path("api/health", health),
    path("bench/floor/<int:workflow_id>", floor, name="bench-floor"),
]
