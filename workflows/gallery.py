"""The template gallery: ready-made workflows a user starts from (the editor's template bar,
`GET /api/workflow-templates`). One JSON file per template in `workflows/gallery/`:

    {"key", "name", "description", "category", "services": ["http", "llm"],
     "sample_input": {...}, "definition": {"nodes": [...], "edges": [...]}}

`services` names what a template calls outside the run (an HTTP API at api.example.com, an
LLM): those run once their URL or credential is filled in; the others run as imported with
their `sample_input`. Only templates whose node types are all registered here and whose
definition validates are offered (a deployment may lack e.g. `schedule`).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from nodes.registry import registry

from .validation import validate_definition

GALLERY_DIR = Path(__file__).resolve().parent / "gallery"


@cache
def _load() -> tuple[dict[str, Any], ...]:
    templates = []
    for path in sorted(GALLERY_DIR.glob("*.json")):
        templates.append(json.loads(path.read_text(encoding="utf-8")))
    return tuple(templates)


def all_templates() -> list[dict[str, Any]]:
    """Every template file, whether or not it can be used on this server."""
    return [json.loads(json.dumps(t)) for t in _load()]  # copies: callers may change them


def available_templates() -> list[dict[str, Any]]:
    """The templates whose node types are registered and whose definition validates here,
    each with the template's name in its definition."""
    result = []
    for template in all_templates():
        definition = {"name": template["name"], **template["definition"]}
        if all(n["type"] in registry for n in definition["nodes"]) \
                and not validate_definition(definition):
            result.append({**template, "definition": definition})
    return result
