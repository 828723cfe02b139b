"""The project's URLs plus the benchmark floor, as `WFAIB_BENCH=1` mounts it."""

from django.urls import include, path

from wfaib.urls import urlpatterns as project_urlpatterns

urlpatterns = [*project_urlpatterns, path("", include("bench.floor_views"))]
