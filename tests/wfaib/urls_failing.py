"""A URL map for tests/wfaib/test_resilience.py: the app's URLs plus views that fail the way an
unexpected bug does, under /api/ and elsewhere."""

from django.urls import path

from wfaib.urls import handler404, handler500
from wfaib.urls import urlpatterns as app_urlpatterns

__all__ = ["handler404", "handler500", "urlpatterns"]


def broken(request):
    raise RuntimeError("a bug")


urlpatterns = [path("api/broken", broken), path("broken", broken), *app_urlpatterns]
