"""A URL map for tests/wfaib/test_wsgi_environ.py: a view that shows what a request carries."""

from django.http import JsonResponse
from django.urls import path


def meta(request):
    return JsonResponse({"meta": sorted(request.META), "headers": sorted(request.headers)})


urlpatterns = [path("meta", meta)]
