"""`merge`: joins branches. It runs once all its upstream nodes are done and combines the inputs
that arrived (a skipped branch contributes nothing):

- object: {source node id: value}
- append: one list (lists are concatenated, other values appended)
- join:   lists of objects joined on `key` (objects with the same key value merged, in order)

With wait "first" it passes on the first input that arrived (in edge order) unchanged.
"""

from typing import Any, Literal

from pydantic import Field, model_validator

from ..base import NodeConfig, NodeError, NodeType
from ..context import NodeContext
from ..registry import register


class MergeConfig(NodeConfig):
    wait: Literal["all", "first"] = Field("all", description="Combine all inputs, or the first.")
    combine: Literal["object", "append", "join"] = Field(
        "object", description="object by input name, list append, or keyed join"
    )
    key: str | None = Field(None, description="For join: the field the objects are joined on.")

    @model_validator(mode="after")
    def _key_for_join(self) -> "MergeConfig":
        if self.combine == "join" and not self.key:
            raise ValueError("a join needs a key")
        return self


@register
class MergeNode(NodeType):
    type = "merge"
    label = "Merge"
    category = "flow"
    description = "Combines the outputs of several branches into one value."
    icon = "merge"
    Config = MergeConfig
    multi_input = True
    timeout = 10.0
    pure = True

    def run(self, ctx: NodeContext, config: MergeConfig, input: dict[str, Any]) -> Any:
        if config.wait == "first":
            return next(iter(input.values()))
        if config.combine == "object":
            return dict(input)
        if config.combine == "append":
            out: list[Any] = []
            for value in input.values():
                out.extend(value) if isinstance(value, list) else out.append(value)
            return out
        joined: dict[Any, dict[str, Any]] = {}
        for source, value in input.items():
            for row in value if isinstance(value, list) else [value]:
                if not isinstance(row, dict) or config.key not in row:
                    raise NodeError(f"input from {source!r}: every item must be an object "
                                    f"with key {config.key!r}")
                try:
                    joined.setdefault(row[config.key], {}).update(row)
                except TypeError:
                    raise NodeError(f"input from {source!r}: key {config.key!r} must be a "
                                    f"string or number") from None
        return list(joined.values())
