"""Overload: a burst of concurrent signed webhooks far past what one web process serves at once,
against a real granian process on the embedded set-up (SQLite, inline executor). The gateway
sheds what it cannot take (503 overloaded, Retry-After, before any run is created); what it
accepts is never lost nor failed by a database lock; no answer is a 500 or an HTML page."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from runs.models import Run
from runs.webhooks.signatures import sign
from tests.factories import make_workflow, simple_definition
from workflows.models import Workflow
from workflows.services import new_webhook_secret

from .conftest import BIN, free_port, subprocess_env, wait_until

pytestmark = pytest.mark.slow

REQUESTS = 300
CONCURRENCY = 150


async def burst(url: str, secret: str) -> tuple[list[httpx.Response], list[str]]:
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        async def one(i: int) -> httpx.Response | str:
            body = f'{{"i": {i}}}'.encode()
            msg_id, now = f"msg_{i}", int(time.time())
            headers = {"content-type": "application/json", "webhook-id": msg_id,
                       "webhook-timestamp": str(now),
                       "webhook-signature": sign(secret, msg_id, now, body)}
            try:
                return await client.post(url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                return f"{type(exc).__name__}: {exc}"

        answers = await asyncio.gather(*(one(i) for i in range(REQUESTS)))
    return ([a for a in answers if isinstance(a, httpx.Response)],
            [a for a in answers if isinstance(a, str)])


def test_a_webhook_burst_is_shed_or_served_and_no_accepted_run_is_lost(shared_db, processes):
    secret = new_webhook_secret()
    workflow = make_workflow(definition=simple_definition(
        {"id": "double", "type": "transform", "config": {"expression": "input.i * 2"}}))
    Workflow.objects.filter(pk=workflow.pk).update(webhook_auth="hmac", webhook_secret=secret)
    port = free_port()
    processes.start("web", [str(BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1",
                            "--port", str(port), "--workers", "1", "--blocking-threads", "32",
                            "wfaib.wsgi:application"],
                    subprocess_env(shared_db, WFAIB_EXECUTOR="inline",
                                   WFAIB_WEBHOOK_MAX_INFLIGHT="8", WFAIB_WEBHOOK_MAX_WAITING="8",
                                   WFAIB_WEBHOOK_QUEUE_WAIT="1", WFAIB_INLINE_WORKERS="4",
                                   WFAIB_WEBHOOK_RATE_PER_CLIENT="0",
                                   WFAIB_WEBHOOK_RATE_PER_WORKFLOW="0"))
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{base}/api/health", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(up, "the web server", procs=processes)
    answers, errors = asyncio.run(burst(f"{base}/api/webhook/{workflow.pk}", secret))

    assert errors == [], errors[:5]
    by_status: dict[int, int] = {}
    for answer in answers:
        by_status[answer.status_code] = by_status.get(answer.status_code, 0) + 1
        assert answer.headers["content-type"].startswith("application/json"), answer.text[:200]
    assert set(by_status) <= {200, 202, 503}, by_status
    shed = [a for a in answers if a.status_code == 503]
    assert shed, by_status  # the burst was past what the gate takes: some were shed
    assert all(a.json()["code"] == "overloaded" and int(a.headers["retry-after"]) >= 1
               for a in shed)
    accepted = {a.json()["run"]: a for a in answers if a.status_code in (200, 202)}
    assert accepted, by_status
    assert len(accepted) == by_status.get(200, 0) + by_status.get(202, 0)

    runs = Run.objects.filter(workflow=workflow)
    # Every accepted request has its run, and there is no run nobody was told about.
    assert set(runs.values_list("pk", flat=True)) == set(accepted)
    wait_until(lambda: not runs.exclude(status__in=Run.FINISHED).exists(),
               "every run to finish", procs=processes)
    assert set(runs.values_list("status", flat=True)) == {Run.Status.SUCCEEDED}, [
        (r.pk, r.status, r.error) for r in runs.exclude(status=Run.Status.SUCCEEDED)[:5]]
    for run in runs:
        assert run.result == run.input["i"] * 2
        answer = accepted[run.pk]
        if answer.status_code == 200:
            assert answer.json()["result"] == run.result
