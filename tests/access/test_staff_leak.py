"""Issue #11's leak, as a new user meets it: two staff editors, neither a superuser. Bob must not
reach Ann's workflows, runs or credentials through the API, and must be able to use the admin
builder without any per-model Django permission."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Project, User
from accounts.tokens import token_create
from tests.factories import UserFactory, make_workflow, run_now
from workflows.models import Workflow
from workflows.services import credential_create

pytestmark = pytest.mark.django_db


def api_for(user) -> APIClient:
    client = APIClient()
    _, key = token_create(user=user, name="test")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def ann(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def bob(db):
    return UserFactory(is_staff=True)


def test_a_staff_user_does_not_reach_another_staff_users_data(ann, bob):
    workflow = make_workflow(owner=ann, name="ann's")
    run = run_now(workflow, {})
    credential = credential_create(owner=ann, name="key", kind="openai", data={"k": "v"})
    bob_api = api_for(bob)
    assert bob_api.get("/api/workflows").json()["count"] == 0
    assert bob_api.get("/api/runs").json()["count"] == 0
    assert bob_api.get("/api/credentials").json()["count"] == 0
    assert bob_api.get(f"/api/workflows/{workflow.pk}").status_code == 404
    assert bob_api.get(f"/api/runs/{run.pk}").status_code == 404
    assert bob_api.get(f"/api/credentials/{credential.pk}").status_code == 404
    assert bob_api.patch(f"/api/workflows/{workflow.pk}", {"name": "bob's"},
                         format="json").status_code == 404
    assert bob_api.post(f"/api/workflows/{workflow.pk}/runs", {},
                        format="json").status_code == 404
    assert bob_api.delete(f"/api/workflows/{workflow.pk}").status_code == 404
    assert Workflow.objects.get(pk=workflow.pk).name == "ann's"


def test_a_staff_user_without_model_permissions_uses_the_builder(ann, bob):
    mine = make_workflow(owner=bob, name="bob's")
    theirs = make_workflow(owner=ann, name="ann's")
    run = run_now(mine, {})
    client = Client()
    client.force_login(bob)
    listing = client.get("/admin/workflows/workflow/")
    assert listing.status_code == 200
    assert b"bob&#x27;s" in listing.content
    assert b"ann&#x27;s" not in listing.content
    assert client.get(f"/admin/workflows/workflow/{mine.pk}/editor/").status_code == 200
    assert client.get("/admin/workflows/workflow/editor/").status_code == 200
    assert client.get(f"/admin/runs/run/{run.pk}/change/").status_code == 200
    assert client.get(f"/admin/workflows/workflow/{theirs.pk}/editor/").status_code == 404
    assert client.get(f"/admin/workflows/workflow/{theirs.pk}/change/").status_code in (302, 404)


def test_an_operator_adds_a_user_who_can_use_the_builder_at_once():
    operator = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(operator)
    response = client.post("/admin/accounts/user/add/", {
        "email": "newbie@example.com", "password1": "correct horse battery",
        "password2": "correct horse battery", "is_staff": "on", "usable_password": "true"})
    assert response.status_code == 302, response.content[:2000]
    newbie = User.objects.get(email="newbie@example.com")
    assert newbie.is_staff
    assert Project.objects.filter(personal_owner=newbie).exists()
    assert not newbie.user_permissions.exists()
    newbie_client = Client()
    newbie_client.force_login(newbie)
    assert newbie_client.get("/admin/workflows/workflow/").status_code == 200
    assert newbie_client.get("/admin/workflows/workflow/editor/").status_code == 200
    assert newbie_client.get("/admin/accounts/user/").status_code == 403  # not an operator
