"""The webhook's workflow lookup cache (runs/webhooks/lookup.py): one query per workflow while
the entry lives, dropped when the workflow is saved or deleted, so a change is seen at once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from runs.models import Run
from runs.webhooks import lookup
from tests.factories import make_workflow
from workflows.services import workflow_delete, workflow_rotate_secret, workflow_update

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _cache_on(settings):
    settings.WFAIB = {**settings.WFAIB, "WEBHOOK_LOOKUP_CACHE": 60.0}
    lookup.clear()
    yield
    lookup.clear()


def hook(ref, **headers):
    return Client().post(f"/hook/{ref}" if isinstance(ref, str) else f"/api/webhook/{ref}",
                         b'{"a": 1}', content_type="application/json", **headers)


def workflow_queries(fn) -> int:
    with CaptureQueriesContext(connection) as queries:
        fn()
    return sum(1 for q in queries.captured_queries
               if 'FROM "workflows_workflow"' in q["sql"] and "SELECT" in q["sql"])


def test_a_cached_workflow_is_read_once(user):
    workflow = make_workflow(owner=user)
    assert workflow_queries(lambda: lookup.lookup(workflow.pk)) == 1
    assert workflow_queries(lambda: lookup.lookup(workflow.pk)) == 0
    assert workflow_queries(lambda: lookup.lookup(str(workflow.pk))) == 0  # digits: the id
    assert hook(workflow.pk).status_code == 200


def test_saving_the_workflow_drops_it_at_once(user):
    workflow = make_workflow(owner=user)
    assert hook(workflow.pk).status_code == 200
    workflow_update(workflow=workflow, user=user, is_active=False)
    assert hook(workflow.pk).status_code == 404  # inactive now, not the cached active row
    workflow_update(workflow=workflow, user=user, is_active=True)
    assert hook(workflow.pk).status_code == 200


def test_a_rotated_secret_is_checked_at_once(user):
    workflow = make_workflow(owner=user)
    workflow_update(workflow=workflow, user=user, webhook_auth="token")
    first = workflow_rotate_secret(workflow=workflow)
    assert hook(workflow.pk, HTTP_X_WEBHOOK_TOKEN=first).status_code == 200
    workflow.refresh_from_db()
    second = workflow_rotate_secret(workflow=workflow)
    assert hook(workflow.pk, HTTP_X_WEBHOOK_TOKEN=second).status_code == 200
    assert hook(workflow.pk, HTTP_X_WEBHOOK_TOKEN="wrong").status_code == 404


def test_a_renamed_path_is_found_under_its_new_name_only(user):
    workflow = make_workflow(owner=user)
    workflow.webhook_path = "orders"
    workflow.save()
    assert hook("orders").status_code == 200
    workflow.webhook_path = "invoices"
    workflow.save()
    assert hook("orders").status_code == 404
    assert hook("invoices").status_code == 200


def test_deleting_the_workflow_drops_it(user):
    workflow = make_workflow(owner=user)
    workflow_id = workflow.pk
    assert hook(workflow_id).status_code == 200
    workflow_delete(workflow=workflow)
    answer = hook(workflow_id)
    assert answer.status_code == 404
    assert answer.json()["code"] == "workflow_not_found"
    assert not Run.objects.filter(workflow_id=workflow_id).exists()


def test_unknown_ids_are_not_cached(user):
    assert hook(987654).status_code == 404
    assert lookup.lookup(987654) is None
    assert not lookup._entries


def test_with_the_cache_off_every_request_reads_the_row(settings, user):
    settings.WFAIB = {**settings.WFAIB, "WEBHOOK_LOOKUP_CACHE": 0}
    workflow = make_workflow(owner=user)
    assert workflow_queries(lambda: lookup.lookup(workflow.pk)) == 1
    assert workflow_queries(lambda: lookup.lookup(workflow.pk)) == 1
