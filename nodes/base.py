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
    multi_input   True when the node always receives {source node id: value} of its live inputs
                  (merge), instead of the single value when only one input is live
    inline_only   True when the node reaches back into the run (ctx.respond, run_subworkflow:
                  it then runs in the engine's thread: no timeout thread, no parallel loop
                  iterations)
    suspends      True when the node waits (returns `Wait`) as its job: delay, wait for webhook;
                  such nodes are refused inside loop bodies (they get ctx.resume_token too)
    external_resume  True when a call from outside resumes its wait; the engine lists its URL
                  in `run.resume_urls`
    long_running  True for a pure node that may work for long (code): it runs in its own
                  thread under its timeout, like a node with side effects, so a cancellation
                  interrupts the wait instead of waiting for the node to end
    uses_models   True when the node calls language models through ctx.check_budget /
                  record_usage: the engine loads the run's budgets before each attempt
    memory_field  the config field holding conversation memory settings (session_id, window,
                  max_tokens; None: no memory) of a node that runs in its own thread: the
                  engine loads that session's history before the attempt and stores what the
                  node appends after a successful one (ctx.memory serves both)
    body_port     the output port whose downstream nodes form a body run once per item (loop)
    is_trigger    True for the node a run starts from (it has no inputs)
    raw_fields    config fields that are expressions themselves (not rendered as templates)
    output_schema the JSON Schema of the node's output where it is known (None: not declared);
                  served at /api/node-types so the editor completes `nodes.<id>.` before a run
    version       the shape of Config (an int, 1 for a new type). Raise it when the config
                  changes shape and implement `migrate_config(old_version, config)`: saved
                  workflows keep their node's version and are upgraded when read
and one method, `run(ctx, config, input)` with `ctx` a `nodes.context.NodeContext`, returning
the node's output (JSON-compatible) or an `Outputs` for a node that emits on chosen ports.
Nodes act only through `ctx`; they import no models and no engine modules.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from .context import NodeContext


class NodeConfig(BaseModel):
    """Base for node configs: unknown keys are refused so typos surface at save time."""

    model_config = ConfigDict(extra="forbid")


class EmptyConfig(NodeConfig):
    pass


def expression_field(**extra: Any) -> dict[str, Any]:
    """json_schema_extra marking a field whose text may hold `{{ expressions }}`."""
    return {"x-expression": True, **extra}


# Marks a true/false expression field: the editor offers its condition builder beside the raw
# expression (the builder writes the same expression, so nothing changes at run time).
CONDITION: dict[str, Any] = {"x-condition": True}


def credential_field(*kinds: str, **extra: Any) -> dict[str, Any]:
    """json_schema_extra marking a field that names a stored credential (its id or name) of
    one of `kinds`; the editor offers a picker of those, the engine resolves it for the node:

        credential: int | str | None = Field(None, json_schema_extra=credential_field("smtp"))
        ...
        secret = ctx.credential(config.credential, kinds=("smtp",))["data"]["password"]
    """
    return {"x-credential": list(kinds), **extra}


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
    `output` is the node's output when the wait ends without another value. When the time
    runs out before an external call and `timeout_port` is set, `output` is emitted on that
    port instead of the first one. `extra` is kept with the wait (e.g. the child run waited on).
    """

    resume_at: Any = None
    token: str | None = None
    output: Any = None
    timeout_port: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Iterate:
    """Returned by a loop node: run the nodes on its body port once per item (or batch).

    The engine runs the body, collects each iteration's result (the output of the last body
    node that succeeded) and emits the list on the loop's `done` port. `break_if` is an
    expression checked after each iteration with `item`, `index` and `result`.
    """

    items: list[Any]
    batch_size: int = 1
    parallelism: int = 1
    break_if: str | None = None


ERROR_PORT = "error"


class NodeSettings(BaseModel):
    """Per-node error handling, the same for every node type (a definition node's `settings`).

    Retries: up to `max_attempts` attempts; before attempt n+1 the engine waits `retry_delay`
    seconds (fixed) or retry_delay * 2**(n-1) (exponential), capped at `max_retry_delay`, with
    jitter when on. `retry_if` (an expression with `error`, `details` and `attempt`) limits
    retries to the failures it accepts. `timeout` overrides the type's default. `on_error`:
    stop the run, continue with the error as the node's output, or emit the error on the
    node's `error` port.
    """

    # frozen: the engine shares one instance between the nodes that set nothing
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_attempts: int = Field(1, ge=1, le=20, description="Attempts before the node fails.")
    backoff: Literal["fixed", "exponential"] = Field("fixed", description="Delay growth.")
    retry_delay: float = Field(1.0, ge=0, le=3600, description="Seconds before a retry.")
    max_retry_delay: float = Field(300.0, ge=0, le=86400, description="Upper bound of a delay.")
    jitter: bool = Field(True, description="Randomise delays (half to full length).")
    retry_if: str | None = Field(
        None,
        description="Retry only when this expression is true, e.g. {{ details.status >= 500 }}",
        json_schema_extra={"x-expression": True, "format": "expression", **CONDITION},
    )
    timeout: float | None = Field(
        None, gt=0, le=86400, description="Seconds before the node is failed (default: type's)."
    )
    on_error: Literal["stop", "continue", "route"] = Field(
        "stop",
        description="stop the run; continue with the error as output; route to the error port",
    )


class NodeType:
    type: ClassVar[str] = ""
    label: ClassVar[str] = ""
    category: ClassVar[str] = "core"
    description: ClassVar[str] = ""
    icon: ClassVar[str] = "box"
    inputs: ClassVar[list[str]] = ["main"]
    outputs: ClassVar[list[str]] = ["main"]
    Config: ClassVar[builtins.type[NodeConfig]] = EmptyConfig
    secret_fields: ClassVar[tuple[str, ...]] = ()
    timeout: ClassVar[float] = 30.0
    pure: ClassVar[bool] = False
    is_trigger: ClassVar[bool] = False
    raw_fields: ClassVar[tuple[str, ...]] = ()  # config fields that are expressions themselves
    multi_input: ClassVar[bool] = False
    inline_only: ClassVar[bool] = False
    suspends: ClassVar[bool] = False
    external_resume: ClassVar[bool] = False
    long_running: ClassVar[bool] = False
    uses_models: ClassVar[bool] = False
    memory_field: ClassVar[str | None] = None
    body_port: ClassVar[str | None] = None
    version: ClassVar[int] = 1
    output_schema: ClassVar[dict[str, Any] | None] = None

    @classmethod
    def output_ports(cls, config: Any) -> list[str]:
        """The output ports of a node with this (raw, unrendered) config. Most types have
        fixed ports; a switch names one per case."""
        return list(cls.outputs)

    def run(self, ctx: NodeContext, config: Any, input: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def migrate_config(cls, old_version: int, config: dict[str, Any]) -> dict[str, Any]:
        """The config of version `old_version` rewritten for version `old_version + 1`.
        Types that changed shape override this; called once per step up to `version`."""
        return config

    @classmethod
    def upgrade_config(cls, config: dict[str, Any], saved_version: int) -> dict[str, Any]:
        """A config saved with `saved_version` brought to the current `version`."""
        for old in range(saved_version, cls.version):
            config = cls.migrate_config(old, dict(config))
        return config

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
            "version": cls.version,
            "is_trigger": cls.is_trigger,
            "secret_fields": list(cls.secret_fields),
            "timeout": cls.timeout,
            "config_schema": cls.config_json_schema(),
            "output_schema": cls.output_schema,
            # Error handling every node offers; on_error=route adds an `error` output port.
            "settings_schema": NodeSettings.model_json_schema(),
            # True when the ports depend on the config (switch: one per case).
            "dynamic_outputs": any("output_ports" in k.__dict__
                                   for k in cls.__mro__ if k is not NodeType),
        }
