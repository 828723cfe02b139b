"""Runs API: start (both paths), idempotency, list filters and paging, read with logs, cancel."""

import datetime as dt

import pytest
from django.utils import timezone

from runs.models import Run
from tests.factories import make_workflow, run_now

pytestmark = pytest.mark.django_db

RUN_KEYS = {"id", "workflow", "version", "status", "trigger", "input", "result", "error",
            "error_node_id", "created_at", "started_at", "finished_at", "duration_ms", "url"}


@pytest.fixture
def workflow(user):
    return make_workflow(owner=user)


@pytest.mark.parametrize("path", ["/api/workflows/{id}/runs", "/api/runs/{id}"])
def test_start_run_answers_202_with_the_queued_run(api, workflow, path):
    response = api.post(path.format(id=workflow.pk), {"input": {"name": "Ada"}}, format="json")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert RUN_KEYS | {"logs"} <= set(body)
    assert body["status"] == "queued"
    assert body["trigger"] == "api"
    assert body["input"] == {"name": "Ada"}
    assert body["version"] == 1
    assert body["url"] == f"http://testserver/api/runs/{body['id']}"
    assert response["Location"] == body["url"]
    assert Run.objects.get(pk=body["id"]).workflow_id == workflow.pk


def test_start_run_without_body_has_null_input(api, workflow):
    response = api.post(f"/api/workflows/{workflow.pk}/runs")
    assert response.status_code == 202
    assert response.json()["input"] is None


def test_start_run_of_unknown_workflow_is_404(api):
    assert api.post("/api/workflows/999999/runs", {}, format="json").status_code == 404
    assert api.post("/api/runs/999999", {}, format="json").status_code == 404


def test_idempotency_key_returns_the_first_run(api, workflow):
    url = f"/api/workflows/{workflow.pk}/runs"
    first = api.post(url, {"input": 1}, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    again = api.post(url, {"input": 2}, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    assert again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert Run.objects.filter(workflow=workflow).count() == 1
    too_long = api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="k" * 201)
    assert too_long.status_code == 400


def test_retrieve_returns_the_run_with_its_logs(api, workflow):
    run = run_now(workflow, {"x": 1})
    body = api.get(f"/api/runs/{run.pk}").json()
    assert RUN_KEYS | {"logs"} <= set(body)
    assert body["status"] == "succeeded"
    assert body["result"] == {"x": 1}
    assert [log["node_id"] for log in body["logs"]] == ["trigger"]


def test_list_is_newest_first_paginated_and_filtered(api, user, workflow):
    other = make_workflow(owner=user, name="other")
    runs = [run_now(workflow, i) for i in range(3)]
    failed_wf = make_workflow(owner=user, definition={"name": "f", "nodes": [
        {"id": "trigger", "type": "webhook", "config": {}},
        {"id": "boom", "type": "transform", "config": {"expression": "1/0"}}],
        "edges": [{"from": "trigger", "to": "boom"}]})
    failed = run_now(failed_wf)
    queued = api.post(f"/api/workflows/{other.pk}/runs", {}, format="json").json()

    everything = api.get("/api/runs").json()
    assert everything["count"] == 5
    ids = [r["id"] for r in everything["results"]]
    assert ids == sorted(ids, reverse=True)
    assert "logs" not in everything["results"][0]

    by_wf = api.get("/api/runs", {"workflow": workflow.pk}).json()
    assert {r["id"] for r in by_wf["results"]} == {r.pk for r in runs}
    by_status = api.get("/api/runs", {"status": "failed"}).json()
    assert [r["id"] for r in by_status["results"]] == [failed.pk]
    assert by_status["results"][0]["error_node_id"] == "boom"
    assert api.get("/api/runs", {"status": "queued"}).json()["results"][0]["id"] == queued["id"]

    Run.objects.filter(pk=runs[0].pk).update(created_at=timezone.now() - dt.timedelta(days=2))
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()
    recent = api.get("/api/runs", {"since": since}).json()
    assert runs[0].pk not in {r["id"] for r in recent["results"]}
    assert recent["count"] == 4

    page = api.get("/api/runs", {"page": 2}).json()  # PAGE_SIZE 50: no second page
    assert page["code"] == "not_found"


def test_list_pages(api, workflow, monkeypatch):
    from rest_framework.pagination import PageNumberPagination

    monkeypatch.setattr(PageNumberPagination, "page_size", 2)  # read from settings at import
    for i in range(3):
        run_now(workflow, i)
    first = api.get("/api/runs").json()
    second = api.get(first["next"]).json()
    assert first["count"] == 3
    assert len(first["results"]) == 2
    assert len(second["results"]) == 1
    assert second["results"][0]["id"] < first["results"][-1]["id"]


@pytest.mark.parametrize("query", [{"status": "bogus"}, {"since": "yesterday"},
                                   {"workflow": "abc"}])
def test_bad_filters_are_400_naming_the_parameter(api, query):
    response = api.get("/api/runs", query)
    assert response.status_code == 400
    assert set(response.json()["fields"]) == set(query)


def test_cancel_a_queued_run(api, workflow):
    run = api.post(f"/api/workflows/{workflow.pk}/runs", {}, format="json").json()
    response = api.post(f"/api/runs/{run['id']}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert Run.objects.get(pk=run["id"]).status == Run.Status.CANCELLED


def test_cancel_a_finished_run_is_409_run_finished_and_leaves_it(api, workflow):
    run = run_now(workflow, 1)
    response = api.post(f"/api/runs/{run.pk}/cancel")
    assert response.status_code == 409
    assert response.json()["code"] == "run_finished"
    assert "succeeded" in response.json()["message"]
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCEEDED
    assert not run.cancel_requested


def test_cancel_twice_is_409_the_second_time(api, workflow):
    run = api.post(f"/api/workflows/{workflow.pk}/runs", {}, format="json").json()
    assert api.post(f"/api/runs/{run['id']}/cancel").status_code == 200
    again = api.post(f"/api/runs/{run['id']}/cancel")
    assert again.status_code == 409
    assert again.json()["code"] == "run_finished"


def test_unknown_run_is_404(api):
    assert api.get("/api/runs/999999").status_code == 404
    assert api.post("/api/runs/999999/cancel").status_code == 404
