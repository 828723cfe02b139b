"""The client's address for lockouts, rate limits and the audit trail.

    client_address(request)  # "203.0.113.7"

REMOTE_ADDR, unless WFAIB_TRUST_X_FORWARDED_FOR=1 (only behind a proxy that sets the header):
then the *last* X-Forwarded-For hop, the one our proxy appended, as DRF's throttles do with
NUM_PROXIES=1. Earlier hops are whatever the client sent and must not be trusted.
"""

from __future__ import annotations

import ipaddress

from django.http import HttpRequest

from wfaib.conf import wfaib_settings


def client_address(request: HttpRequest) -> str | None:
    address = request.META.get("REMOTE_ADDR", "")
    if wfaib_settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            address = hops[-1]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None
