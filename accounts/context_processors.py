"""Template context for every page: the projects whose data the signed-in user cannot see
until they turn two-factor sign-in on (the admin's banner in templates/admin/base_site.html).

The value is a lazy queryset: it costs a query only on pages that show it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .access import mfa_blocked_projects


def mfa_required_projects(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {"mfa_blocked_projects": mfa_blocked_projects(user)}
