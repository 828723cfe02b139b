"""`loop` (for each): runs the nodes connected to its `each` output once per item.

In the body, expressions see `item` and `index` (and `nodes.<loop id>` is the current item, so
an inner loop's body can read the outer item). Each iteration's result is the output of the
last body node (in run order) that succeeded; the list of results leaves by `done`. With
`batch_size` > 1 each iteration gets a list of up to that many items. `parallelism` > 1 runs
that many iterations at once in threads (nodes that need the engine's thread, such as
sub-workflows, make it sequential); `break_if` stops after the first iteration for which it
is true (with parallelism, iterations already started in that group are discarded).
"""

from typing import Any

from pydantic import Field

from ..base import CONDITION, Iterate, NodeConfig, NodeError, NodeType, expression_field
from ..context import NodeContext
from ..registry import register


class LoopConfig(NodeConfig):
    items: Any = Field(
        "{{ input }}",
        description="The list to iterate over, e.g. {{ input.orders }}",
        json_schema_extra=expression_field(),
    )
    batch_size: int = Field(1, ge=1, le=10_000, description="Items per iteration.")
    parallelism: int = Field(1, ge=1, le=32, description="Iterations run at once.")
    break_if: str | None = Field(
        None,
        description="Stop after an iteration when true; sees item, index and result.",
        json_schema_extra=expression_field(format="expression", **CONDITION),
    )


@register
class LoopNode(NodeType):
    type = "loop"
    label = "Loop (for each)"
    category = "flow"
    description = "Runs the nodes on `each` once per item, then outputs the results on `done`."
    icon = "repeat"
    outputs = ["done", "each"]
    body_port = "each"
    Config = LoopConfig
    raw_fields = ("break_if",)
    timeout = 10.0
    pure = True

    def run(self, ctx: NodeContext, config: LoopConfig, input: Any) -> Iterate:
        items = config.items
        if items is None:
            items = []
        if not isinstance(items, list):
            raise NodeError(f"items must be a list, got {type(items).__name__}")
        return Iterate(items=items, batch_size=config.batch_size,
                       parallelism=config.parallelism, break_if=config.break_if)
