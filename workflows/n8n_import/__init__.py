"""Import from n8n: an n8n workflow export (JSON) converted to a WFAIB workflow, with a report
of every node and expression that was not converted and why.

    from workflows.n8n_import import convert, workflow_import_n8n
    conversion = convert(data)                                   # no database
    workflow, report = workflow_import_n8n(owner=user, data=data, project=team)

Modules: `convert` (the whole workflow: shape checks, node ids, edges, loops, trigger),
`nodes_core` and `nodes_flow` (one converter per n8n node type), `conditions` (If / Switch /
filter conditions), `expressions` (n8n's JavaScript expressions to WFAIB's), `context` (what
the converters share, the report), `services` (creating the workflow). Doors:
`POST /api/workflows/import-n8n` and `manage.py import_n8n FILE`.
"""

from .context import N8nImportError
from .convert import CONVERTERS, Conversion, convert
from .services import MAX_FILE_BYTES, workflow_import_n8n

__all__ = ["CONVERTERS", "MAX_FILE_BYTES", "Conversion", "N8nImportError", "convert",
           "workflow_import_n8n"]
