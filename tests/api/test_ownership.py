"""Another user sees nothing of yours in lists and filters; superusers reach everything. The
per-route walk over the URL map is tests/access/test_matrix.py."""

import pytest

from accounts.tokens import token_create
from tests.factories import UserFactory, make_workflow, run_now
from workflows.services import credential_create

pytestmark = pytest.mark.django_db

@pytest.fixture
def owned(user):
    workflow = make_workflow(owner=user, name="mine")
    run = run_now(workflow, {"x": 1})
    credential = credential_create(owner=user, name="key", kind="openai", data={"k": "v"})
    token, _ = token_create(user=user, name="mine")
    return {"workflow": workflow, "run": run, "credential": credential, "token": token}


def test_lists_and_filters_show_nothing_of_another_user(owned, other_api):
    assert other_api.get("/api/workflows").json()["count"] == 0
    assert other_api.get("/api/runs").json()["count"] == 0
    runs = other_api.get("/api/runs", {"workflow": owned["workflow"].pk}).json()
    assert runs["count"] == 0
    assert other_api.get("/api/credentials").json()["count"] == 0
    assert [t["name"] for t in other_api.get("/api/auth/tokens").json()] == ["test"]


def test_error_workflow_cannot_point_at_another_users_workflow(owned, other_api, other_user):
    mine = make_workflow(owner=other_user)
    response = other_api.patch(f"/api/workflows/{mine.pk}",
                               {"error_workflow": owned["workflow"].pk}, format="json")
    assert response.status_code == 400


def test_superusers_reach_every_object(owned, client_for):
    staff_api = client_for(UserFactory(is_staff=True, is_superuser=True))
    assert staff_api.get(f"/api/workflows/{owned['workflow'].pk}").status_code == 200
    assert staff_api.get(f"/api/runs/{owned['run'].pk}").status_code == 200
    assert staff_api.get(f"/api/credentials/{owned['credential'].pk}").status_code == 200
    assert staff_api.get(f"/api/workflows/{owned['workflow'].pk}/versions/1").status_code == 200
    response = staff_api.post(f"/api/workflows/{owned['workflow'].pk}/runs", {}, format="json")
    assert response.status_code == 202
