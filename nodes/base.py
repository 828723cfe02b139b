"""The contract every node type fulfils, and the values nodes hand back to the engine.

A node type is a class with these attributes:
    type          unique type name used in definitions ("http")
    label         human name for the palette
    category      palette group: "trigger", "core", "ai", "flow", "data"
    description   one sentence for the palette
    icon          an icon name for the editor
    inputs        input port names (a trigger has none)
    outputs       output port names; branching nodes have several ("true", "false")
    Config        a pydantic model: the typed config; its JSON Schema drives the editor
    secret_fields config field names that hold secrets (never logged or shown back)
    timeout       default timeout in seconds
    pure          True when running it twice has no effect outside the run (no HTTP, no mail),
                  so the engine may batch its log and recompute it on resume
and one method, `run(ctx, config, input)`, returning the node's output (JSON-compatible) or an
`Outputs` for a node that emits on chosen ports. Nodes act only through `ctx`; they import no
models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class NodeConfig(BaseModel):
    """Base for node configs: unknown keys are refused so typos surface at save time."""

    model_config = ConfigDict(extra="forbid")


class EmptyConfig(NodeConfig):
    pass


def expression_field(**extra: Any) -> dict[str, Any]:
    """json_schema_extra marking a field whose text may hold `{{ expressions }}`."""
    return {"x-expression": True, **extra}


class NodeError(Exception):
    """A node failed; the message is shown to the user with the node id."""

    def __init__(self, message: str, *, node_id: str | None = None, output: Any = None):
        super().__init__(message)
        self.message = message
        self.node_id = node_id
        self.output = output

    def __str__(self) -> str:
        return self.message


@dataclass
class Outputs:
    """Output on named ports. Ports not listed emit nothing (their branches are skipped)."""

    ports: dict[str, Any] = field(default_factory=dict)


@dataclass
class Wait:
    """Returned by a node that must pause the run (delay, wait for webhook).

    `resume_at` is when the scheduler resumes the run (None: only an external call resumes it);
    `output` is the node's output when the wait ends without another value.
    """

    resume_at: Any = None
    token: str | None = None
    output: Any = None


class NodeType:
    type: ClassVar[str] = ""
    label: ClassVar[str] = ""
    category: ClassVar[str] = "core"
    description: ClassVar[str] = ""
    icon: ClassVar[str] = "box"
    inputs: ClassVar[list[str]] = ["main"]
    outputs: ClassVar[list[str]] = ["main"]
    Config: ClassVar[type[NodeConfig]] = EmptyConfig
    secret_fields: ClassVar[tuple[str, ...]] = ()
    timeout: ClassVar[float] = 30.0
    pure: ClassVar[bool] = False
    is_trigger: ClassVar[bool] = False
    raw_fields: ClassVar[tuple[str, ...]] = ()  # config fields that are expressions themselves

    def run(self, ctx: Any, config: Any, input: Any) -> Any:  # noqa: A002
        raise NotImplementedError

    @classmethod
    def config_json_schema(cls) -> dict[str, Any]:
        schema = cls.Config.model_json_schema()
        for name in cls.secret_fields:
            schema.get("properties", {}).get(name, {})["x-secret"] = True
        return schema

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """The JSON description served at /api/node-types (palette and property forms)."""
        return {
            "type": cls.type,
            "label": cls.label,
            "category": cls.category,
            "description": cls.description,
            "icon": cls.icon,
            "inputs": list(cls.inputs),
            "outputs": list(cls.outputs),
            "is_trigger": cls.is_trigger,
            "secret_fields": list(cls.secret_fields),
            "timeout": cls.timeout,
            "config_schema": cls.config_json_schema(),
        }
