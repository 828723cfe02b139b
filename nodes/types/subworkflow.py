"""`subworkflow`: runs another workflow of the same owner with an input and returns its result.

The child run (trigger "subworkflow", parent_run set, depth + 1) executes inline in the engine's
thread; its failure fails this node with the child's error. Nesting is bounded by
WFAIB["MAX_SUBWORKFLOW_DEPTH"] (default 10), which also stops a workflow calling itself. A
child that waits (delay, wait for webhook) makes this node wait too; the parent resumes when
the child finishes. The node's timeout setting does not apply: the child is a run of its own.
"""

from typing import Any

from pydantic import Field

from ..base import NodeConfig, NodeError, NodeType, Wait, expression_field
from ..context import NodeContext
from ..registry import register


class SubworkflowConfig(NodeConfig):
    workflow: int = Field(..., ge=1, description="The id of the workflow to run (yours).")
    input: Any = Field("{{ input }}", description="The child run's input.",
                       json_schema_extra=expression_field(format="json"))


@register
class SubworkflowNode(NodeType):
    type = "subworkflow"
    label = "Run workflow"
    category = "flow"
    description = "Runs another of your workflows with an input and outputs its result."
    icon = "workflow"
    Config = SubworkflowConfig
    inline_only = True  # may still return Wait (a waiting child); not inside a loop body
    timeout = 300.0

    def run(self, ctx: NodeContext, config: SubworkflowConfig, input: Any) -> Any:
        outcome = ctx.run_subworkflow(config.workflow, config.input)
        status = outcome["status"]
        if status == "succeeded":
            return outcome["result"]
        if status == "waiting":
            return Wait(extra={"child_run": outcome["run_id"]})
        where = f" at node {outcome['error_node_id']!r}" if outcome.get("error_node_id") else ""
        raise NodeError(
            f"sub-workflow {outcome['workflow']!r} (run {outcome['run_id']}) {status}{where}: "
            f"{outcome.get('error') or 'no error message'}",
            output={"run_id": outcome["run_id"], "status": status,
                    "error": outcome.get("error"), "error_node_id": outcome.get("error_node_id")},
        )
