"""Run JSON: exactly runs.selectors.run_as_dict plus its URL. The serializers here describe that
shape for the OpenAPI schema and validate the list filters; the data comes from the selector."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request

from wfaib.url_paths import numbered_path

from ..models import Run, RunLog
from ..selectors import run_as_dict


def run_payload(run: Run, request: Request | None, *, with_logs: bool = True) -> dict[str, Any]:
    data = run_as_dict(run, with_logs=with_logs)
    path = numbered_path("run-detail", "pk", run.pk)
    data["url"] = request.build_absolute_uri(path) if request is not None else path
    return data


class RunLogSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    node_id = serializers.CharField()
    node_type = serializers.CharField()
    status = serializers.ChoiceField(choices=RunLog.Status.choices)
    scope = serializers.CharField(allow_blank=True)
    attempt = serializers.IntegerField()
    ports = serializers.JSONField(allow_null=True)
    input = serializers.JSONField(allow_null=True)
    output = serializers.JSONField(allow_null=True)
    error = serializers.CharField(allow_blank=True)
    duration_ms = serializers.IntegerField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    usage = serializers.JSONField(
        allow_null=True, help_text="The attempt's model calls summed: calls, prompt_tokens, "
                                   "completion_tokens, cached_tokens, cost (estimated USD).")


class RunUsageSerializer(serializers.Serializer):
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()
    cost = serializers.FloatField(help_text="Estimated USD of the run's model calls.")


class RunSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    workflow = serializers.IntegerField()
    version = serializers.IntegerField(help_text="The workflow version the run pinned.")
    status = serializers.ChoiceField(choices=Run.Status.choices)
    trigger = serializers.ChoiceField(choices=Run.Trigger.choices)
    input = serializers.JSONField(allow_null=True)
    result = serializers.JSONField(allow_null=True)
    error = serializers.CharField(allow_blank=True)
    error_node_id = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)
    usage = RunUsageSerializer()
    test = serializers.JSONField(allow_null=True, help_text=(
        "A test run's plan (trigger test): {mode, node, pinned: [node ids whose pinned data "
        "was used], reused: {node id: run id its output came from}, only, by}; null otherwise."))
    url = serializers.URLField()


class RunSerializer(RunSummarySerializer):
    logs = RunLogSerializer(many=True)


class PartialOutputSerializer(serializers.Serializer):
    text = serializers.CharField()
    scope = serializers.CharField(allow_blank=True)
    updated_at = serializers.DateTimeField()


class RunPartialSerializer(serializers.Serializer):
    run = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Run.Status.choices)
    nodes = serializers.DictField(child=PartialOutputSerializer(),
                                  help_text="By node id: the output so far of nodes at work.")


class RunFilterSerializer(serializers.Serializer):
    workflow = serializers.IntegerField(required=False, min_value=1)
    project = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1,
                                       help_text="Only runs of this project's workflows.")
    status = serializers.ChoiceField(choices=Run.Status.choices, required=False)
    since = serializers.DateTimeField(required=False,
                                      help_text="Only runs created at or after this time.")


class RunStartSerializer(serializers.Serializer):
    input = serializers.JSONField(required=False, allow_null=True, default=None,
                                  help_text="The trigger payload the run starts with.")
    mode = serializers.ChoiceField(
        choices=["workflow", "step", "from"], required=False, help_text=(
            "Only for the editor's test runs (trigger test), which use pinned data: "
            "workflow = all nodes, pinned ones give their pinned data; step = only `node`, on "
            "its upstream nodes' pinned or last-run output; from = `node` and what follows, "
            "the nodes before it giving their pinned or last-run output. Without `mode` the "
            "run is a production run and pins are ignored."))
    node = serializers.CharField(required=False, max_length=100,
                                 help_text="The node of mode step or from.")
    from_run = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1,
        help_text="Take earlier outputs from this run of the workflow (default: each node's "
                  "latest in the recent runs).")

    def validate(self, attrs: dict) -> dict:
        if attrs.get("mode") in ("step", "from") and not attrs.get("node"):
            raise serializers.ValidationError({"node": [f"mode {attrs['mode']} needs the "
                                                        "node to run"]})
        if ("node" in attrs or "from_run" in attrs) and "mode" not in attrs:
            raise serializers.ValidationError({"mode": ["node and from_run are for test runs: "
                                                        "send a mode"]})
        return attrs


class RunRetrySerializer(serializers.Serializer):
    mode = serializers.ChoiceField(
        choices=["from_failed", "from_start"], default="from_failed",
        help_text="from_failed: reuse the recorded outputs of the nodes before the failed one; "
                  "from_start: run everything again.")
    version = serializers.ChoiceField(
        choices=["pinned", "current"], default="pinned",
        help_text="pinned: the version the run ran; current: the workflow's latest.")
    input = serializers.JSONField(
        required=False, help_text="An edited trigger payload (implies mode from_start).")


class RunBulkRetrySerializer(serializers.Serializer):
    runs = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
                                 min_length=1,
                                 max_length=500)
    mode = serializers.ChoiceField(choices=["from_failed", "from_start"],
                                   default="from_failed")
    version = serializers.ChoiceField(choices=["pinned", "current"], default="pinned")


class RunBulkRetryResultSerializer(serializers.Serializer):
    retried = serializers.ListField(child=serializers.DictField())
    skipped = serializers.ListField(child=serializers.DictField())
