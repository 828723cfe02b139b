"""The benchmark floor: a bare endpoint that writes what a webhook run writes, without the engine.

    POST /bench/floor/<workflow_id>[?logs=3&commits=1]   (mounted only when WFAIB_BENCH=1)

It looks the workflow's current version up (one query), inserts one Run, bulk-inserts `logs`
RunLogs (input and output carry the payload, as a run of pure pass-through nodes would) and
updates the Run to succeeded with its result; then answers 200 with the result as JSON.
`commits=1` (default) does all writes in one transaction, the least any durable path can do;
`commits=2` first commits the queued Run on its own, as an accept-then-execute design must.

No DRF, no authentication, no sessions. Served two ways by `bench throughput`: by the bare
stack (bench/bare_settings.py: no middleware at all; endpoint `bare`, the floor every figure
is divided by) and inside the app behind the project's middleware (endpoint `floor`). Never
mounted in production: `wfaib/urls.py` includes it only when WFAIB_BENCH=1.
"""

from __future__ import annotations

import orjson
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from runs.models import Run, RunLog
from workflows.models import WorkflowVersion

MAX_LOGS = 100


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status)


@csrf_exempt
@require_POST
def floor(request: HttpRequest, workflow_id: int) -> HttpResponse:
    try:
        payload = orjson.loads(request.body or b"null")
    except orjson.JSONDecodeError:
        return _error(400, "invalid_json", "the body is not valid JSON")
    try:
        logs = int(request.GET.get("logs", 3))
        commits = int(request.GET.get("commits", 1))
    except ValueError:
        return _error(400, "invalid_query", "logs and commits must be integers")
    if not 0 <= logs <= MAX_LOGS or commits not in (1, 2):
        return _error(400, "invalid_query", f"logs must be 0..{MAX_LOGS}, commits 1 or 2")
    version_id = (
        WorkflowVersion.objects.filter(workflow_id=workflow_id, number=F("workflow__version"))
        .values_list("pk", flat=True).first()
    )
    if version_id is None:
        return _error(404, "not_found", f"no workflow {workflow_id}")

    now = timezone.now()
    if commits == 2:
        run = Run.objects.create(workflow_id=workflow_id, version_id=version_id,
                                 trigger=Run.Trigger.WEBHOOK, input=payload)
    with transaction.atomic():
        if commits == 1:
            run = Run.objects.create(workflow_id=workflow_id, version_id=version_id,
                                     trigger=Run.Trigger.WEBHOOK, input=payload,
                                     status=Run.Status.RUNNING, started_at=now)
        RunLog.objects.bulk_create(
            RunLog(run=run, node_id=f"n{i}", node_type="transform",
                   status=RunLog.Status.SUCCEEDED, input=payload, output=payload,
                   duration_ms=0, started_at=now, finished_at=now)
            for i in range(logs)
        )
        Run.objects.filter(pk=run.pk).update(status=Run.Status.SUCCEEDED, result=payload,
                                             started_at=now, finished_at=timezone.now())
    return HttpResponse(orjson.dumps(payload), content_type="application/json")


urlpatterns = [path("bench/floor/<int:workflow_id>", floor, name="bench-floor")]
