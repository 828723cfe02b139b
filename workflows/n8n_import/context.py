"""What the converters share: the n8n names mapped to WFAIB node ids, the report, and the
conversion of parameter values (fixed text, `=` expressions) into config values.

    ctx.value("=Hi {{ $json.name }}", "mapping.greeting")   -> "Hi {{ input.name }}"
    ctx.expr("={{ $json.total }}", "expression")            -> "(input.total)"
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from wfaib.errors import DomainError

from .expressions import (
    Untranslatable,
    escape_literal,
    py_str,
    translate,
    unconverted,
)

_SEGMENT = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


class N8nImportError(DomainError):
    """The file is not an n8n workflow export; `field` names where (e.g. "nodes[2].name")."""

    code, status = "invalid_n8n_workflow", 400

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.reason = message

    def extra(self) -> dict[str, Any]:
        return {"field": self.field}


@dataclass
class Report:
    """What was converted and what was not, and why."""

    nodes: list[dict[str, Any]] = field(default_factory=list)
    expressions: list[dict[str, Any]] = field(default_factory=list)
    credentials: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def node(self, name: str, n8n_type: str, node_id: str | None, status: str,
             notes: list[str]) -> None:
        self.nodes.append({"name": name, "n8n_type": n8n_type, "id": node_id,
                           "status": status, "notes": notes})

    def to_json(self) -> dict[str, Any]:
        statuses = [n["status"] for n in self.nodes]
        failed = [e for e in self.expressions if e["wfaib"] is None]
        return {
            "summary": {
                "nodes": len(self.nodes),
                "converted": statuses.count("converted"),
                "not_converted": statuses.count("not_converted"),
                "dropped": statuses.count("dropped"),
                "expressions": len(self.expressions),
                "expressions_converted": len(self.expressions) - len(failed),
                "expressions_not_converted": len(failed),
                "credentials_to_fill_in": len(self.credentials),
            },
            "nodes": self.nodes,
            "expressions": self.expressions,
            "credentials": self.credentials,
            "notes": self.notes,
        }


@dataclass
class Context:
    ids: dict[str, str]  # n8n node name -> WFAIB node id
    report: Report
    workflow_map: dict[str, int] = field(default_factory=dict)
    timezone: str = "UTC"
    shapes: dict[str, str] = field(default_factory=dict)  # name -> "webhook" | "http"
    input_shapes: dict[str, str] = field(default_factory=dict)  # name -> shape of its $json
    node: str = ""  # the n8n node being converted
    notes: list[str] = field(default_factory=list)  # of that node

    def _record(self, where: str, original: str, ours: str | None, reason: str = "") -> None:
        self.report.expressions.append({"node": self.node, "field": where, "n8n": original,
                                        "wfaib": ours, "reason": reason or None})

    def value(self, value: Any, where: str) -> Any:
        """A parameter value as a config value: `=` text becomes a WFAIB template."""
        if isinstance(value, dict):
            return {k: self.value(v, f"{where}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if not isinstance(value, str):
            return value
        if not value.startswith("="):
            return escape_literal(value)
        text = value[1:]
        parts, pos = [], 0
        for match in _SEGMENT.finditer(text):
            parts.append(escape_literal(text[pos:match.start()]))
            source = match.group(1)
            try:
                ours = "{{ " + self._translate(source) + " }}"
                self._record(where, source.strip(), ours)
            except Untranslatable as exc:
                ours = unconverted(source.strip())
                self._record(where, source.strip(), None, str(exc))
            parts.append(ours)
            pos = match.end()
        parts.append(escape_literal(text[pos:]))
        return "".join(parts)

    def expr(self, value: Any, where: str) -> str:
        """A parameter value as a Python expression source (conditions, mappings)."""
        if not isinstance(value, str):
            return repr(value) if isinstance(value, (int, float, bool)) or value is None \
                else self._literal(value)
        if not value.startswith("="):
            return py_str(value)
        text, pieces, pos = value[1:], [], 0
        for match in _SEGMENT.finditer(text):
            if text[pos:match.start()]:
                pieces.append(py_str(text[pos:match.start()]))
            source = match.group(1)
            try:
                ours = self._translate(source)
                self._record(where, source.strip(), "{{ " + ours + " }}")
            except Untranslatable as exc:
                ours = "n8n_unconverted(" + py_str(source.strip()[:2000]) + ")"
                self._record(where, source.strip(), None, str(exc))
            pieces.append(f"({ours})")
            pos = match.end()
        if text[pos:]:
            pieces.append(py_str(text[pos:]))
        if not pieces:
            return '""'
        if len(pieces) == 1:
            return pieces[0][1:-1] if pieces[0].startswith("(") else pieces[0]
        return " + ".join(p if p.startswith('"') else f"str({p})" for p in pieces)

    def _translate(self, source: str) -> str:
        return translate(source, self.ids, shapes=self.shapes,
                         input_shape=self.input_shapes.get(self.node))

    def _literal(self, value: Any) -> str:
        """A JSON object or list as a Python expression (json_loads of its text)."""
        return "json_loads(" + py_str(json.dumps(value)) + ")"

    def credential(self, n8n_node: dict[str, Any], kind: str | None) -> None:
        for n8n_kind, ref in (n8n_node.get("credentials") or {}).items():
            name = ref.get("name") if isinstance(ref, dict) else None
            self.report.credentials.append({
                "node": self.node, "n8n_type": n8n_kind, "n8n_name": name,
                "kind": kind or CREDENTIAL_KINDS.get(n8n_kind),
                "placeholder": f"n8n: {name or n8n_kind}"})


# n8n credential types -> WFAIB credential kinds (the shared contract's names).
CREDENTIAL_KINDS = {
    "httpHeaderAuth": "api_key_header", "httpBearerAuth": "bearer_token",
    "httpBasicAuth": "basic_auth", "oAuth2Api": "oauth2", "openAiApi": "openai",
    "anthropicApi": "anthropic", "smtp": "smtp", "imap": "imap", "postgres": "database",
    "mySql": "database", "aws": "s3", "s3": "s3",
}
