"""The agent node's tools: how each is described to the model and what calling it does.

A tool is either another workflow of the project (`kind: "workflow"`: its trigger's
`input_schema` is the tool's parameters; the call runs it as a child run through
`ctx.run_subworkflow`) or a built-in node configured as a tool (`kind: "http"`, `"code"`, or
`"database"`): its `config` is that node's config, whose
`{{ }}` templates see the model's arguments as `args` (a code tool also gets them as `input`).

    tools = Toolbox(ctx, config.tools)
    specs = tools.specs()                       # ToolSpec list for the ChatRequest
    output = tools.call("get_weather", {"city": "Paris"})   # or ToolFailure
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from ..base import NodeConfig, NodeError, Outputs, Wait
from ..context import NodeContext
from ..registry import registry
from . import ToolSpec
from .structured import schema_problem

NODE_TOOLS = ("http", "code", "database")  # built-in node types usable as tools
TEMPLATE_RE = re.compile(r"\{\{(.+?)\}\}", re.DOTALL)
WHOLE_RE = re.compile(r"^\s*\{\{(.+?)\}\}\s*$", re.DOTALL)
ANY_OBJECT: dict[str, Any] = {"type": "object", "properties": {}}


class AgentTool(NodeConfig):
    name: str = Field(..., pattern=r"^[A-Za-z0-9_-]{1,64}$",
                      description="The function name the model calls (letters, digits, _ -).")
    description: str = Field("", max_length=2000,
                             description="What the tool does, for the model (a workflow "
                                         "tool defaults to its workflow's description).")
    kind: Literal["workflow", "http", "code", "database"] = "workflow"
    workflow: int | None = Field(None, ge=1, description="workflow tools: the workflow's id.")
    parameters: dict[str, Any] | None = Field(
        None, description="The arguments' JSON Schema (a workflow tool defaults to its "
                          "trigger's input_schema).")
    config: dict[str, Any] = Field(
        default_factory=dict, description="Node tools: the node's config; {{ args.x }} is "
                                          "the model's argument x.")

    @field_validator("parameters")
    @classmethod
    def _schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        problem = schema_problem(value) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _target(self) -> AgentTool:
        if self.kind == "workflow" and self.workflow is None:
            raise ValueError(f"tool {self.name!r}: a workflow tool needs `workflow`")
        if self.kind != "workflow" and self.kind not in registry:
            raise ValueError(f"tool {self.name!r}: no {self.kind!r} node is installed")
        return self


class ToolFailure(Exception):
    """A tool call that did not work; its message goes back to the model (or fails the node)."""


def _render(ctx: NodeContext, value: Any, names: dict[str, Any]) -> Any:
    """`{{ }}` templates in a tool's config, rendered with the call's names (like the engine's
    config rendering: one whole template yields the raw value)."""
    if isinstance(value, dict):
        return {k: _render(ctx, v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_render(ctx, v, names) for v in value]
    if not isinstance(value, str) or "{{" not in value:
        return value
    whole = WHOLE_RE.match(value)
    if whole and "{{" not in whole.group(1):
        return ctx.evaluate(whole.group(1), names)

    def text(match: re.Match[str]) -> str:
        found = ctx.evaluate(match.group(1), names)
        if isinstance(found, str):
            return found
        return "" if found is None else json.dumps(found, default=str)

    return TEMPLATE_RE.sub(text, value)


def _arguments_problem(schema: dict[str, Any], args: dict[str, Any]) -> str | None:
    from jsonschema import exceptions as schema_errors  # on first use: ~9 MB a process otherwise
    from jsonschema import validators

    validator = validators.validator_for(schema)(schema)
    error = schema_errors.best_match(validator.iter_errors(args))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path)
    return f"invalid arguments at {'/' + where if where else 'the top level'}: {error.message}"


class Toolbox:
    """The tools of one agent run, their workflows looked up once."""

    def __init__(self, ctx: NodeContext, tools: list[AgentTool]):
        self.ctx = ctx
        self.tools = {t.name: t for t in tools}
        self.schemas: dict[str, dict[str, Any]] = {}
        self.descriptions: dict[str, str] = {}
        for tool in tools:
            schema, description = tool.parameters, tool.description
            if tool.kind == "workflow" and tool.workflow is not None:
                info = ctx.describe_workflow(tool.workflow)
                schema = schema or info["input_schema"]
                description = description or info["description"] or f"Runs {info['name']}"
            self.schemas[tool.name] = schema or ANY_OBJECT
            self.descriptions[tool.name] = description or tool.name

    def specs(self) -> tuple[ToolSpec, ...]:
        return tuple(ToolSpec(name=name, description=self.descriptions[name],
                              parameters=self.schemas[name]) for name in self.tools)

    def call(self, name: str, args: dict[str, Any]) -> Any:
        """The tool's output; ToolFailure (unknown tool, bad arguments, the tool failed)."""
        tool = self.tools.get(name)
        if tool is None:
            raise ToolFailure(f"unknown tool {name!r}; the tools are: "
                              f"{', '.join(self.tools) or 'none'}")
        problem = _arguments_problem(self.schemas[name], args)
        if problem:
            raise ToolFailure(problem)
        try:
            if tool.kind == "workflow":
                return self._workflow(tool, args)
            return self._node(tool, args)
        except NodeError as exc:
            raise ToolFailure(exc.message) from None

    def _workflow(self, tool: AgentTool, args: dict[str, Any]) -> Any:
        assert tool.workflow is not None
        outcome = self.ctx.run_subworkflow(tool.workflow, args)
        if outcome["status"] == "succeeded":
            return outcome["result"]
        if outcome["status"] == "waiting":
            raise ToolFailure(f"workflow {outcome['workflow']!r} (run {outcome['run_id']}) "
                              f"waits; a tool's workflow must finish without waiting")
        where = f" at node {outcome['error_node_id']!r}" if outcome.get("error_node_id") else ""
        raise ToolFailure(f"workflow {outcome['workflow']!r} (run {outcome['run_id']}) "
                          f"{outcome['status']}{where}: {outcome.get('error') or 'no message'}")

    def _node(self, tool: AgentTool, args: dict[str, Any]) -> Any:
        cls = registry.get(tool.kind)
        raw = _render(self.ctx, tool.config, {"args": args})
        try:
            config = cls.Config.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "config"
            raise ToolFailure(f"the {tool.kind} tool's config at {where}: {first['msg']}") \
                from None
        result = cls().run(self.ctx, config, args)
        if isinstance(result, Wait):
            raise ToolFailure(f"a {tool.kind} node cannot wait as a tool")
        return result.ports if isinstance(result, Outputs) else result
