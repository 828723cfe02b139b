"""Converters of n8n's core nodes: triggers, HTTP Request, Set / Edit Fields, Respond to
Webhook, Code, Execute Workflow, NoOp. Each takes (ctx, n8n node) and returns an `Out`, or
raises `NotConverted` with the reason (the importer puts a placeholder there)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from nodes.registry import registry

from .context import Context
from .expressions import py_str, unconverted


class NotConverted(Exception):
    """This node (or its setting) has no WFAIB equivalent; the message says why."""


@dataclass
class Out:
    type: str
    config: dict[str, Any]
    ports: dict[int, str] = field(default_factory=lambda: {0: "main"})
    settings: dict[str, Any] | None = None


def params(node: dict[str, Any]) -> dict[str, Any]:
    found = node.get("parameters") or {}
    return found if isinstance(found, dict) else {}


def version(node: dict[str, Any]) -> float:
    found = node.get("typeVersion", 1)
    return float(found) if isinstance(found, (int, float)) else 1.0


def _pairs(block: Any) -> list[dict[str, Any]]:
    """n8n's {parameters: [{name, value}]} (v3+) or {parameter: [...]} (v1/v2) lists."""
    if not isinstance(block, dict):
        return []
    found = block.get("parameters", block.get("parameter", []))
    return [p for p in found if isinstance(p, dict)] if isinstance(found, list) else []


def webhook(ctx: Context, node: dict[str, Any]) -> Out:
    p = params(node)
    ctx.notes.append(f"n8n path {p.get('path', '')!r} ({p.get('httpMethod', 'GET')}): the "
                     "WFAIB webhook URL is /api/webhook/<workflow id> (POST)")
    if p.get("authentication") not in (None, "none"):
        ctx.notes.append("set the workflow's webhook authentication (token or HMAC) instead "
                         "of n8n's")
    return Out("webhook", {"description": f"Imported from n8n: {p.get('path', '')}"[:500]})


def manual_trigger(ctx: Context, node: dict[str, Any]) -> Out:
    ctx.notes.append("a manual start: run it from the editor, the API or manage.py "
                     "run_workflow (a webhook trigger here)")
    return Out("webhook", {"description": "Started by hand (n8n manual trigger)"})


def execute_workflow_trigger(ctx: Context, node: dict[str, Any]) -> Out:
    ctx.notes.append("started by a parent workflow's sub-workflow node; its input is `trigger`")
    return Out("webhook", {"description": "Started as a sub-workflow"})


def _http_body(ctx: Context, p: dict[str, Any], config: dict[str, Any], v: float) -> None:
    if v < 3:
        if p.get("jsonParameters") and p.get("bodyParametersJson"):
            config["json_body"] = _json_template(ctx, p["bodyParametersJson"], "json_body")
        elif _pairs(p.get("bodyParametersUi")):
            config["json_body"] = {q.get("name", ""): ctx.value(q.get("value"), "json_body")
                                   for q in _pairs(p.get("bodyParametersUi"))}
        return
    if not p.get("sendBody"):
        return
    content = p.get("contentType", "json")
    if content != "json":
        raise NotConverted(f"HTTP body content type {content!r} is not converted (JSON only)")
    if p.get("specifyBody") == "json":
        config["json_body"] = _json_template(ctx, p.get("jsonBody", ""), "json_body")
    else:
        config["json_body"] = {q.get("name", ""): ctx.value(q.get("value"), "json_body")
                               for q in _pairs(p.get("bodyParameters"))}


_MARK = "__wfaib_expr_{}__"


def _json_template(ctx: Context, text: Any, where: str) -> Any:
    """n8n's JSON body text (fixed or `=` with `{{ }}` inside) as a JSON value whose strings
    hold WFAIB templates."""
    if not isinstance(text, str):
        return ctx.value(text, where)
    expression = text.startswith("=")
    body = text[1:] if expression else text
    found: list[str] = []

    def mark(match: re.Match[str]) -> str:
        found.append(match.group(1))
        return _MARK.format(len(found) - 1)

    marked = re.sub(r"\{\{(.*?)\}\}", mark, body, flags=re.DOTALL) if expression else body
    # an unquoted mark stands for a value: quote it so the text parses as JSON
    quoted = re.sub(r'(?<!")(__wfaib_expr_\d+__)(?!")', r'"\1"', marked)
    try:
        data = json.loads(quoted)
    except ValueError:
        raise NotConverted("the JSON body does not parse as JSON once its expressions are "
                           "set aside") from None
    return _unmark(ctx, data, found, where)


def _unmark(ctx: Context, data: Any, found: list[str], where: str) -> Any:
    if isinstance(data, dict):
        return {k: _unmark(ctx, v, found, f"{where}.{k}") for k, v in data.items()}
    if isinstance(data, list):
        return [_unmark(ctx, v, found, f"{where}[{i}]") for i, v in enumerate(data)]
    if isinstance(data, str) and "__wfaib_expr_" in data:
        text = re.sub(r"__wfaib_expr_(\d+)__", lambda m: "{{" + found[int(m.group(1))] + "}}",
                      data)
        return ctx.value("=" + text, where)
    return ctx.value(data, where)


def http_request(ctx: Context, node: dict[str, Any]) -> Out:
    p, v = params(node), version(node)
    method = p.get("method" if v >= 3 else "requestMethod", "GET")
    config: dict[str, Any] = {"method": method, "url": ctx.value(p.get("url", ""), "url")}
    queries = _pairs(p.get("queryParameters" if v >= 3 else "queryParametersUi"))
    if queries and (v < 3 or p.get("sendQuery")):
        config["query"] = {q.get("name", ""): ctx.value(q.get("value", ""), "query")
                           for q in queries}
    headers = _pairs(p.get("headerParameters" if v >= 3 else "headerParametersUi"))
    if headers and (v < 3 or p.get("sendHeaders")):
        config["headers"] = {q.get("name", ""): ctx.value(q.get("value", ""), "headers")
                             for q in headers}
    _http_body(ctx, p, config, v)
    _http_options(p.get("options") or {}, config)
    if p.get("authentication") not in (None, "none") or node.get("credentials"):
        _http_credential(ctx, node, config)
    return Out("http", config)


def _http_options(options: dict[str, Any], config: dict[str, Any]) -> None:
    if isinstance(options.get("timeout"), (int, float)):
        config["timeout"] = min(max(options["timeout"] / 1000, 0.001), 600)
    never_error = ((options.get("response") or {}).get("response") or {}).get("neverError")
    if never_error:
        config["fail_on_error_status"] = False


def _http_credential(ctx: Context, node: dict[str, Any], config: dict[str, Any]) -> None:
    """Listed in the report; named in the node when its type takes a credential field."""
    ctx.credential(node, None)
    if "credential" in registry.get("http").Config.model_fields:
        creds = node.get("credentials") or {}
        ref = next(iter(creds.values()), {}) if creds else {}
        config["credential"] = f"n8n: {ref.get('name') or 'credential'}"
    ctx.notes.append("its credential must be created here and selected (see credentials)")


def _assignment_value(ctx: Context, value: Any, kind: str, where: str) -> str:
    """A Set field's value as an expression for the transform's mapping."""
    if isinstance(value, str) and not value.startswith("="):
        if kind == "number":
            try:
                return repr(float(value) if "." in value else int(value))
            except ValueError:
                pass
        if kind == "boolean" and value.lower() in ("true", "false"):
            return repr(value.lower() == "true")
        if kind in ("object", "array"):
            try:
                return ctx.expr(json.loads(value), where)
            except ValueError:
                pass
    return ctx.expr(value, where)


def _set_fields(ctx: Context, p: dict[str, Any], v: float) -> tuple[list[tuple[str, str]], bool]:
    """[(name, expression)] and whether the other input fields are kept."""
    found: list[tuple[str, str]] = []
    if v >= 3.3 or "assignments" in p:
        for a in (p.get("assignments") or {}).get("assignments") or []:
            found.append((str(a.get("name", "")), _assignment_value(
                ctx, a.get("value"), str(a.get("type", "string")), f"mapping.{a.get('name')}")))
        return found, bool(p.get("includeOtherFields"))
    if v >= 3:
        for f in (p.get("fields") or {}).get("values") or []:
            kind = str(f.get("type", "stringValue")).removesuffix("Value")
            value = f.get(f"{kind}Value", f.get("stringValue"))
            found.append((str(f.get("name", "")), _assignment_value(
                ctx, value, kind, f"mapping.{f.get('name')}")))
        return found, p.get("include", "all") == "all"
    for kind in ("string", "number", "boolean"):
        for f in (p.get("values") or {}).get(kind) or []:
            found.append((str(f.get("name", "")), _assignment_value(
                ctx, f.get("value"), kind, f"mapping.{f.get('name')}")))
    return found, not p.get("keepOnlySet", False)


def set_fields(ctx: Context, node: dict[str, Any]) -> Out:
    p, v = params(node), version(node)
    if p.get("mode") == "raw":
        return Out("transform", {"expression": "{{ " + ctx.expr(
            p.get("jsonOutput", "{}") if str(p.get("jsonOutput", "")).startswith("=")
            else json.loads(p.get("jsonOutput") or "{}"), "expression") + " }}"})
    fields, keep = _set_fields(ctx, p, v)
    if any("." in name for name, _ in fields):
        ctx.notes.append("dotted field names are set as flat keys, not nested objects")
    if keep:
        items = ", ".join(f"{py_str(name)}: {expr}" for name, expr in fields)
        return Out("transform", {"expression": "{{ {**(input if isinstance(input, dict) else "
                                               "{}), " + items + "} }}"})
    if not fields:
        return Out("transform", {"expression": "{{ json_loads(\"\\x7b\\x7d\") }}"})
    return Out("transform", {"mapping": {name: "{{ " + expr + " }}" for name, expr in fields}})


def respond(ctx: Context, node: dict[str, Any]) -> Out:
    p = params(node)
    options = p.get("options") or {}
    config: dict[str, Any] = {}
    if isinstance(options.get("responseCode"), int):
        config["status"] = options["responseCode"]
    headers = ((options.get("responseHeaders") or {}).get("entries") or [])
    if headers:
        config["headers"] = {h.get("name", ""): ctx.value(h.get("value", ""), "headers")
                             for h in headers if isinstance(h, dict)}
    mode = p.get("respondWith", "firstIncomingItem")
    if mode == "json":
        config["body"] = _json_template(ctx, p.get("responseBody", "{}"), "body")
    elif mode == "text":
        config["body"] = ctx.value(p.get("responseBody", ""), "body")
        config.setdefault("headers", {})["Content-Type"] = "text/plain"
    elif mode in ("firstIncomingItem", "allIncomingItems"):
        config["body"] = "{{ input }}"
    elif mode == "noData":
        config["body"] = None
        config.setdefault("status", 204)
    elif mode == "redirect":
        config["status"] = options.get("responseCode", 307)
        config.setdefault("headers", {})["Location"] = ctx.value(p.get("redirectURL", ""),
                                                                 "headers.Location")
        config["body"] = None
    else:
        raise NotConverted(f"responding with {mode!r} is not converted")
    return Out("respond", config)


def code(ctx: Context, node: dict[str, Any]) -> Out:
    p = params(node)
    language = str(p.get("language", "javaScript"))
    source = p.get("pythonCode") if language.startswith("python") else \
        p.get("jsCode", p.get("functionCode", p.get("code")))
    if not isinstance(source, str) or not source.strip():
        raise NotConverted("the Code node has no code")
    ctx.notes.append("n8n's item API ($input.all(), items, return [{json}]) differs from "
                     "WFAIB's (input, result): check the code")
    if language.startswith("python"):
        return Out("code", {"code": source})
    if "language" not in registry.get("code").Config.model_fields:
        raise NotConverted("this server's code node runs Python only (JavaScript needs the "
                           "code node with language: javascript)")
    return Out("code", {"language": "javascript", "code": source})


def noop(ctx: Context, node: dict[str, Any]) -> Out:
    return Out("transform", {"expression": "{{ input }}"})


def execute_workflow(ctx: Context, node: dict[str, Any]) -> Out:
    p = params(node)
    if p.get("source", "database") != "database":
        raise NotConverted(f"a sub-workflow given as {p.get('source')!r} is not converted "
                           "(only one stored in n8n's database)")
    ref = p.get("workflowId")
    n8n_id = str(ref.get("value") if isinstance(ref, dict) else ref or "")
    if n8n_id not in ctx.workflow_map:
        raise NotConverted(f"n8n workflow {n8n_id!r} has no WFAIB workflow: import it, then "
                           f"map it (workflow_map {{\"{n8n_id}\": <id>}})")
    if p.get("mode") == "each":
        ctx.notes.append("n8n ran the sub-workflow once per item; here it runs once")
    return Out("subworkflow", {"workflow": ctx.workflow_map[n8n_id]})


def placeholder(reason: str, name: str) -> Out:
    """Where a node could not be converted: a node that fails when run, naming why."""
    return Out("transform", {"expression": unconverted(f"node {name!r}: {reason}")})
