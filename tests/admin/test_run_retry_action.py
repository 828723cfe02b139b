import pytest
from django.urls import reverse

from runs.models import Run
from tests.factories import UserFactory, make_workflow, run_now, simple_definition

pytestmark = pytest.mark.django_db


def test_bulk_retry_action_retries_failed_runs_and_reports_the_others(client):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    bad = make_workflow(owner=admin_user, definition=simple_definition(
        {"id": "x", "type": "transform", "config": {"expression": "1/0"}}))
    failed = run_now(bad)
    ok = run_now(make_workflow(owner=admin_user))
    answer = client.post(reverse("admin:runs_run_changelist"), {
        "action": "retry_from_start", "_selected_action": [failed.pk, ok.pk]}, follow=True)
    assert answer.status_code == 200
    text = answer.content.decode()
    retry = Run.objects.get(retry_of=failed)
    assert f"#{failed.pk} → #{retry.pk}" in text
    assert f"Run #{ok.pk} not retried" in text
    assert not Run.objects.filter(retry_of=ok).exists()
