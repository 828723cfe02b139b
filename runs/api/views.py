"""Runs: start (per workflow), list (filtered, newest first), read with logs, cancel.

`/api/runs/{id}` carries two operations, as the spec's table has them: GET reads run `id`;
POST queues a run of *workflow* `id` (same as `POST /api/workflows/{id}/runs`).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.base import ScopedViewSetMixin, get_scoped
from wfaib.exceptions import ErrorSerializer, error_body
from workflows.selectors import workflows_visible_to

from ..engine import partial
from ..models import Run
from ..selectors import runs_visible_to
from ..services import (
    RetryNotAllowed,
    RunFinished,
    run_cancel,
    run_retry,
    run_retry_bulk,
    run_start_idempotent,
)
from .serializers import (
    RunBulkRetryResultSerializer,
    RunBulkRetrySerializer,
    RunFilterSerializer,
    RunPartialSerializer,
    RunRetrySerializer,
    RunSerializer,
    RunStartSerializer,
    RunSummarySerializer,
    run_payload,
)

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", location=OpenApiParameter.HEADER, required=False, type=str,
    description="Repeating a key for the same workflow returns the first run instead of "
                "starting another.")


def start_run_response(request: Request, workflow_id: int) -> Response:
    workflow = get_scoped(workflows_visible_to, request, workflow_id, "run")
    body = RunStartSerializer(data=request.data if request.data is not None else {})
    body.is_valid(raise_exception=True)
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > 200:
        raise serializers.ValidationError({"Idempotency-Key": ["at most 200 characters"]})
    started = run_start_idempotent(workflow=workflow, input=body.validated_data["input"],
                                   trigger=Run.Trigger.API, key=key)
    run = started.run
    response = Response(run_payload(run, request), status=status.HTTP_202_ACCEPTED)
    response["Location"] = run_payload(run, request, with_logs=False)["url"]
    if not started.created:
        response["Idempotent-Replayed"] = "true"
    return response


@extend_schema(tags=["runs"])
class RunViewSet(ScopedViewSetMixin, viewsets.GenericViewSet):
    """Runs of the workflows in the signed-in user's projects."""

    serializer_class = RunSerializer
    visible_to = staticmethod(runs_visible_to)
    project_lookup = "workflow__project"
    action_access = {"cancel": "run", "retry": "run", "bulk_retry": "run", "queue": "run"}

    def _model(self):
        return Run

    @extend_schema(parameters=[RunFilterSerializer], responses=RunSummarySerializer(many=True))
    def list(self, request: Request) -> Response:
        """Runs, newest first, without logs; filter by workflow, status, since."""
        filters = RunFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = self.get_queryset().order_by("-created_at", "-id")
        if "workflow" in filters.validated_data:
            qs = qs.filter(workflow_id=filters.validated_data["workflow"])
        if "project" in filters.validated_data:
            qs = qs.filter(workflow__project_id=filters.validated_data["project"])
        if "status" in filters.validated_data:
            qs = qs.filter(status=filters.validated_data["status"])
        if "since" in filters.validated_data:
            qs = qs.filter(created_at__gte=filters.validated_data["since"])
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(
            [run_payload(run, request, with_logs=False) for run in page])

    @extend_schema(responses=RunSerializer)
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        """One run with its node-by-node logs."""
        return Response(run_payload(self.get_object(), request))

    @extend_schema(responses=RunPartialSerializer)
    @action(detail=True, methods=["get"])
    def partial(self, request: Request, pk: str | None = None) -> Response:
        """The output so far of nodes at work (a streamed model answer), by node id; empty
        once the run finished (each node's output is then in its log)."""
        run = self.get_object()
        nodes = {} if run.is_finished else partial.read(
            run.pk, [n.get("id") for n in run.version.definition.get("nodes", [])
                     if isinstance(n, dict) and isinstance(n.get("id"), str)])
        return Response({"run": run.pk, "status": run.status, "nodes": nodes})

    @extend_schema(request=None, responses={200: RunSerializer, 409: OpenApiResponse(
        ErrorSerializer, description="run_finished: the run had already finished")})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel a queued or waiting run now; a running one stops before its next node.
        409 run_finished when it had already finished."""
        try:
            run = run_cancel(run=self.get_object())
        except RunFinished as exc:
            return Response(error_body("run_finished", str(exc)), status=status.HTTP_409_CONFLICT)
        return Response(run_payload(run, request))

    @extend_schema(request=RunRetrySerializer, responses={202: RunSerializer, 409: OpenApiResponse(
        ErrorSerializer, description="retry_not_allowed: the message says why and what to send "
                                     'instead (e.g. {"mode": "from_start"})')})
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str | None = None) -> Response:
        """Retry a failed or cancelled run as a new run: from the failed node (earlier nodes'
        recorded outputs are reused, not run again), from the start, or with edited input;
        on the pinned version or the current one. 409 when the run cannot be retried so."""
        run = self.get_object()
        body = RunRetrySerializer(data=request.data if request.data is not None else {})
        body.is_valid(raise_exception=True)
        options = dict(body.validated_data)
        if "input" in options and "mode" not in (request.data or {}):
            options["mode"] = "from_start"  # edited input means running from the start
        try:
            new = run_retry(run=run, **options)
        except RetryNotAllowed as exc:
            return Response(error_body("retry_not_allowed", str(exc)),
                            status=status.HTTP_409_CONFLICT)
        response = Response(run_payload(new, request), status=status.HTTP_202_ACCEPTED)
        response["Location"] = run_payload(new, request, with_logs=False)["url"]
        return response

    @extend_schema(request=RunBulkRetrySerializer, responses=RunBulkRetryResultSerializer,
                   operation_id="runs_bulk_retry")
    def bulk_retry(self, request: Request) -> Response:
        """Retry many runs; each that cannot be retried (or is not yours) is reported in
        `skipped` with the reason."""
        body = RunBulkRetrySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ids = list(dict.fromkeys(body.validated_data["runs"]))
        visible = set(self.get_queryset().filter(pk__in=ids).values_list("pk", flat=True))
        allowed = {run.pk: run for run in self.scoped("run").filter(pk__in=ids)}
        result = run_retry_bulk(runs=[allowed[i] for i in ids if i in allowed],
                                mode=body.validated_data["mode"],
                                version=body.validated_data["version"])
        result["skipped"] += [{"run": i, "reason": f"no run {i}"} for i in ids
                              if i not in visible]
        result["skipped"] += [{"run": i, "reason": "your role does not allow running it"}
                              for i in ids if i in visible and i not in allowed]
        return Response(result)

    @extend_schema(
        request=RunStartSerializer, responses={202: RunSerializer},
        parameters=[IDEMPOTENCY_KEY,
                    OpenApiParameter("id", int, OpenApiParameter.PATH,
                                     description="For POST: the *workflow* id.")],
        operation_id="runs_queue_for_workflow",
        description="Queue a run of workflow `id` (the spec's legacy path; the same as "
                    "`POST /api/workflows/{id}/runs`).")
    def queue(self, request: Request, pk: str | None = None) -> Response:
        return start_run_response(request, int(pk))


class WorkflowRunsViewSet(viewsets.ViewSet):  # scoped by start_run_response
    """POST /api/workflows/{id}/runs: queue a run of the workflow."""

    @extend_schema(tags=["runs"], request=RunStartSerializer, responses={202: RunSerializer},
                   parameters=[IDEMPOTENCY_KEY], operation_id="workflows_runs_create")
    def create(self, request: Request, pk: int) -> Response:
        """Queue a run of the workflow with `input` as its trigger payload; 202 with the run."""
        return start_run_response(request, pk)
