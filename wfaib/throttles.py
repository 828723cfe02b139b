"""API rate limits, counted in the cache (CACHE_URL; shared by all web processes when it is
Redis): per signed-in user (scope "user", WFAIB_API_RATE_USER) and per client address (scope
"ip", WFAIB_API_RATE_IP), both on every API view unless it sets its own `throttle_classes`
(login: "login"). Over the limit: 429 {"code": "throttled", ...} with Retry-After.

Rates are read when a request is checked (not when the class is imported, as DRF does), so
`override_settings(REST_FRAMEWORK=...)` changes them in tests.
"""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class _LiveRateThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class UserRateThrottle(_LiveRateThrottle):
    """Requests per signed-in user; anonymous requests are left to the per-address limit."""

    scope = "user"

    def get_cache_key(self, request, view):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.pk}


class ClientAddressRateThrottle(_LiveRateThrottle):
    """Requests per client address, signed in or not."""

    scope = "ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
