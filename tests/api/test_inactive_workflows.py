"""`is_active` gates the automatic doors only (webhook, schedule): a signed-in user can still
run an inactive workflow from the API or the CLI (as documented), e.g. to test it first."""

import pytest
from django.core.management import call_command

from runs.models import Run
from tests.factories import make_workflow

pytestmark = pytest.mark.django_db


@pytest.fixture
def inactive(user):
    return make_workflow(owner=user, name="draft", is_active=False)


def test_the_api_runs_an_inactive_workflow(api, inactive):
    response = api.post(f"/api/workflows/{inactive.pk}/runs", {"input": {}}, format="json")
    assert response.status_code == 202, response.json()


def test_the_cli_runs_an_inactive_workflow(inactive, capsys):
    with pytest.raises(SystemExit) as exit_code:
        call_command("run_workflow", str(inactive.pk))
    assert exit_code.value.code == 0, capsys.readouterr()
    assert Run.objects.get(workflow=inactive).status == Run.Status.SUCCEEDED


def test_the_webhook_refuses_an_inactive_workflow(api, inactive):
    response = api.post(f"/api/webhook/{inactive.pk}", {}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "workflow_not_found"
