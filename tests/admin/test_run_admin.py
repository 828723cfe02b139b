"""The run viewer, the runs list and the dashboard."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from runs.admin_views import dashboard
from runs.models import Run
from tests.factories import make_workflow, run_now, simple_definition

pytestmark = pytest.mark.django_db


def test_run_viewer_shows_timeline_outputs_and_pinned_version(staff_client, staff):
    wf = make_workflow(owner=staff, definition=simple_definition(
        {"id": "greet", "type": "transform", "config": {"expression": "'hi ' + input.name"}}))
    run = run_now(wf, {"name": "Ada"})
    response = staff_client.get(reverse("admin:runs_run_change", args=[run.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="log-trigger"' in html
    assert 'data-testid="log-greet"' in html
    assert "&quot;hi Ada&quot;" in html
    assert "version 1" in html
    assert "run_viewer.js" in html
    assert 'data-finished="1"' in html
    assert 'data-signature="succeeded:succeeded,succeeded"' in html


def test_run_viewer_highlights_the_failing_node(staff_client, staff):
    wf = make_workflow(owner=staff, definition=simple_definition(
        {"id": "boom", "type": "transform", "config": {"expression": "1/0"}}))
    run = run_now(wf, {})
    assert run.status == Run.Status.FAILED
    html = staff_client.get(reverse("admin:runs_run_change", args=[run.pk])).content.decode()
    assert 'data-testid="run-error"' in html
    assert 'href="#node-boom"' in html
    assert "wf-tl-error" in html.split('data-testid="log-boom"')[0].rsplit("<li", 1)[1]


def test_run_viewer_of_someone_elses_run_is_404(staff_client, other_staff):
    run = run_now(make_workflow(owner=other_staff), {})
    response = staff_client.get(reverse("admin:runs_run_change", args=[run.pk]))
    assert response.status_code == 404


def test_runs_list_filters_by_workflow_and_status(staff_client, staff):
    a = make_workflow(owner=staff, name="alpha")
    b = make_workflow(owner=staff, name="beta")
    ra, rb = run_now(a, {}), run_now(b, {})
    url = reverse("admin:runs_run_changelist")
    html = staff_client.get(url + f"?workflow__id__exact={a.pk}").content.decode()
    assert reverse("admin:runs_run_change", args=[ra.pk]) in html
    assert reverse("admin:runs_run_change", args=[rb.pk]) not in html
    html = staff_client.get(url + "?status__exact=failed").content.decode()
    assert reverse("admin:runs_run_change", args=[ra.pk]) not in html


def test_dashboard_counts_failure_rate_and_recent_failures(staff, other_staff):
    ok = make_workflow(owner=staff, name="ok")
    bad = make_workflow(owner=staff, name="bad", definition=simple_definition(
        {"id": "boom", "type": "transform", "config": {"expression": "1/0"}}))
    run_now(ok, {})
    run_now(ok, {})
    failed = run_now(bad, {})
    run_now(make_workflow(owner=other_staff), {})  # not visible to `staff`
    old = run_now(ok, {})
    Run.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=2))

    dash = dashboard(staff)
    assert dash["counts"]["total"] == 3
    assert dash["counts"]["failed"] == 1
    assert dash["failure_rate"] == pytest.approx(33.3)
    assert sum(bar["n"] for bar in dash["bars"]) == 3
    assert len(dash["bars"]) == 24
    assert [f["run"].pk for f in dash["failures"]] == [failed.pk]
    statuses = {item["workflow"].name: item["last_run_status"] for item in dash["workflows"]}
    assert statuses == {"ok": "succeeded", "bad": "failed"}


def test_admin_index_renders_the_dashboard(staff_client, staff):
    bad = make_workflow(owner=staff, name="bad", definition=simple_definition(
        {"id": "boom", "type": "transform", "config": {"expression": "1/0"}}))
    failed = run_now(bad, {})
    response = staff_client.get(reverse("admin:index"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="dashboard"' in html
    assert reverse("admin:runs_run_change", args=[failed.pk]) in html
    assert "100.0 %" in html


def test_root_redirects_to_the_dashboard(staff_client):
    response = staff_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
