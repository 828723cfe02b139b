"""Runs: start (per workflow), list (filtered, newest first), read with logs, cancel.

`/api/runs/{id}` carries two operations, as the spec's table has them: GET reads run `id`;
POST queues a run of *workflow* `id` (same as `POST /api/workflows/{id}/runs`).
"""

from __future__ import annotations

from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.base import ScopedViewSetMixin, get_scoped
from wfaib.exceptions import ErrorSerializer, error_body
from workflows.models import Workflow
from workflows.selectors import workflows_visible_to

from ..engine import partial
from ..files import FileUnavailable, file_storage
from ..models import Run, RunFile
from ..selectors import runs_visible_to
from ..services import (
    RetryNotAllowed,
    RunFinished,
    run_cancel,
    run_retry,
    run_retry_bulk,
    run_start_idempotent,
)
from ..test_runs import run_start_test
from ..webhooks import listening
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
    if "mode" in body.validated_data:
        return _start_test_run(request, workflow, body.validated_data)
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


def _start_test_run(request: Request, workflow: Workflow, data: dict) -> Response:
    """A test run from the editor (runs/test_runs.py): pinned data, one step, from a node."""
    from_run = None
    if "from_run" in data:
        # the workflow is the caller's (get_scoped): so are its runs
        from_run = Run.objects.filter(pk=data["from_run"], workflow=workflow).first()
        if from_run is None:
            raise serializers.ValidationError({"from_run": [f"no run {data['from_run']} of "
                                                            "this workflow"]})
    run = run_start_test(workflow=workflow, mode=data["mode"], node=data.get("node"),
                         input=data["input"], from_run=from_run, user=request.user)
    response = Response(run_payload(run, request), status=status.HTTP_202_ACCEPTED)
    response["Location"] = run_payload(run, request, with_logs=False)["url"]
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

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
                   operation_id="runs_file_download")
    def download(self, request: Request, pk: str | None = None,
                 file_id: int | None = None) -> FileResponse:
        """Download a file of the run (a webhook upload, an HTTP binary response, a storage
        read), as an attachment; for whoever may view the run."""
        run = self.get_object()
        row = RunFile.objects.filter(run=run, pk=file_id).first()
        if row is None:
            raise Http404("No such file.")
        try:
            handle = file_storage().open(row.key, "rb")
        except (FileNotFoundError, FileUnavailable):
            raise Http404("The file is missing from the file store.") from None
        response = FileResponse(handle, as_attachment=True, filename=row.name,
                                content_type=row.content_type)
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "sandbox"
        return response

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


class TestEventSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["idle", "listening", "captured"])
    event = serializers.JSONField(allow_null=True, help_text=(
        "The captured call: {method, query, headers, input}; `input` is what the run's input "
        "would have been (files as references with an empty key: not stored)."))
    until = serializers.DateTimeField(allow_null=True)
    received_at = serializers.DateTimeField(allow_null=True)


@extend_schema(tags=["webhook"])
class WorkflowTestEventViewSet(viewsets.ViewSet):  # scoped with get_scoped below
    """The editor's "listen for a test event" (runs/webhooks/listening.py)."""

    @extend_schema(request=None, responses={200: TestEventSerializer},
                   operation_id="workflows_listen")
    def listen(self, request: Request, pk: int) -> Response:
        """Listen for the next call to `/hook/test/<id or custom path>` (for 120 s); read it
        with GET /api/workflows/{id}/test-event."""
        workflow = get_scoped(workflows_visible_to, request, pk, "edit")
        return Response(listening.listen_start(workflow.pk))

    @extend_schema(responses={200: TestEventSerializer}, operation_id="workflows_test_event")
    def test_event(self, request: Request, pk: int) -> Response:
        """Whether the editor listens, and the captured test call once there is one."""
        workflow = get_scoped(workflows_visible_to, request, pk, "view")
        return Response(listening.listen_state(workflow.pk))
