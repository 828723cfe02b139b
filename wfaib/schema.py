"""drf-spectacular AutoSchema that documents the error answers every endpoint can give.

Each operation gets the shared Error component for the statuses it can produce: 400 and 415
where it takes a body, 401/403 where it needs authentication, 404 where the path names an
object (or a list is paged), 429 where it is throttled. Operation-specific errors (409 and
friends) are declared with @extend_schema next to the view.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from rest_framework.permissions import AllowAny


class AutoSchema(BaseAutoSchema):
    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        from .exceptions import ErrorSerializer

        responses = super()._get_response_bodies(direction)
        codes: list[str] = []
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ["400", "415"]
        if self.method == "GET" and self._is_list_view():
            codes.append("400")  # bad filter values
        permissions = getattr(self.view, "permission_classes", ())
        if not all(p is AllowAny for p in permissions):
            codes += ["401", "403"]
        paged = self.method == "GET" and self._is_list_view() and self._get_paginator()
        if "{" in self.path or paged:  # an object id in the path, or a page past the end
            codes.append("404")
        if getattr(self.view, "throttle_classes", ()):
            codes.append("429")
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code,
                                                              direction=direction)
        return responses
