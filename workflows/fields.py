"""`SealedJSONField`: a JSONField whose node-config secrets are encrypted in the database
(workflows.crypto.seal_definition on every write, unseal_definition on every read), so a
workflow definition or saved version never holds a plaintext secret at rest."""

from __future__ import annotations

from typing import Any

from django.db import models

from .crypto import seal_definition, unseal_definition


class SealedJSONField(models.JSONField):
    def get_db_prep_save(self, value: Any, connection: Any) -> Any:
        if isinstance(value, dict):
            value = seal_definition(value)
        return super().get_db_prep_save(value, connection)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return unseal_definition(super().from_db_value(value, expression, connection))
