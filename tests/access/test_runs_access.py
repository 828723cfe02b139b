"""Runs follow their workflow's project: a viewer reads them but retries nothing, in bulk too;
the admin change form shows a workflow's versions to a staff member without model
permissions."""

import pytest
from django.test import Client

from runs.models import Run
from tests.access.conftest import api_for
from tests.factories import make_workflow, run_now
from workflows.services import workflow_update

pytestmark = pytest.mark.django_db


def failing(team):
    workflow = make_workflow(owner=team["admin"], project=team["project"])
    run = run_now(workflow, {})
    Run.objects.filter(pk=run.pk).update(status="failed", error="boom")
    return workflow, run


def test_bulk_retry_skips_runs_the_role_does_not_allow(team):
    _, run = failing(team)
    viewer = api_for(team["viewer"])
    result = viewer.post("/api/runs/retry", {"runs": [run.pk, 999999]}, format="json").json()
    assert result["retried"] == []
    assert {s["run"]: s["reason"] for s in result["skipped"]} == {
        run.pk: "your role does not allow running it", 999999: "no run 999999"}
    assert Run.objects.count() == 1
    editor = api_for(team["editor"])
    retried = editor.post("/api/runs/retry", {"runs": [run.pk], "mode": "from_start"},
                          format="json").json()
    assert retried["skipped"] == [], retried
    assert [r["run"] for r in retried["retried"]] == [run.pk]


def test_runs_filter_by_project(team):
    workflow, run = failing(team)
    client = api_for(team["viewer"])
    assert [r["id"] for r in client.get("/api/runs", {"project": team["project"].pk}
                                        ).json()["results"]] == [run.pk]
    assert client.get("/api/runs", {"project": team["project"].pk + 1000}).json()["count"] == 0


def test_versions_show_in_the_admin_form_without_model_permissions(team):
    workflow = make_workflow(owner=team["admin"], project=team["project"], name="w")
    workflow_update(workflow=workflow, user=team["admin"], name="w2")
    client = Client()
    client.force_login(team["viewer"])
    page = client.get(f"/admin/workflows/workflow/{workflow.pk}/change/")
    assert page.status_code == 200
    assert b"versions-TOTAL_FORMS" in page.content


def test_the_run_viewer_offers_cancel_and_rerun_only_to_roles_that_run(team):
    _, run = failing(team)
    for who, shown in (("viewer", False), ("editor", True), ("admin", True)):
        client = Client()
        client.force_login(team[who])
        page = client.get(f"/admin/runs/run/{run.pk}/change/")
        assert page.status_code == 200
        assert (b'data-testid="rerun"' in page.content) is shown, who
