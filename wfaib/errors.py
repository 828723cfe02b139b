"""The base of the errors services raise for a caller to show: each knows its API code, HTTP
status and extra fields, so the API's exception handler answers every one of them the same way
without knowing the apps (layers point one way: apps import this, never the reverse).

    class VersionConflict(DomainError):
        code, status = "version_conflict", 409
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "error"
    status = 400

    @property
    def message(self) -> str:
        return str(self)

    def extra(self) -> dict[str, Any]:
        return {}
