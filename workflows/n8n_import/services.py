"""Creating a workflow from an n8n export: converted, validated like every save, created
inactive (its webhooks and schedules start only once the user has checked it)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import Project
from audit.services import audit_record

from ..models import Workflow
from ..services import workflow_create
from .convert import convert

MAX_FILE_BYTES = 5 * 1024 * 1024


@transaction.atomic
def workflow_import_n8n(*, owner: Any, data: Any, project: Project | None = None,
                        name: str | None = None, workflow_map: dict[str, int] | None = None
                        ) -> tuple[Workflow, dict[str, Any]]:
    """Raises N8nImportError (not an n8n export) or InvalidDefinition (the result does not
    validate; its errors name the fields)."""
    conversion = convert(data, workflow_map=workflow_map)
    definition = conversion.definition
    workflow = workflow_create(owner=owner, name=(name or definition["name"])[:200],
                               definition=definition, project=project, is_active=False,
                               description="Imported from n8n.")
    audit_record(action="workflow.import_n8n", obj=workflow, actor=owner,
                 extra={"summary": conversion.report["summary"]})
    return workflow, conversion.report
