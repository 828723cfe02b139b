"""`WebhookRejected`: the one error a step of a public door raises to refuse a request.

    raise WebhookRejected(429, "rate_limited", "retry in 3s", {"Retry-After": "3"})

Caught once (runs.webhooks.http.PublicPostView) and answered as the API's `{code, message}`
JSON with `status` and `headers`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wfaib.exceptions import error_body


class WebhookRejected(Exception):
    def __init__(self, status: int, code: str, message: str,
                 headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers: dict[str, str] = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message)
