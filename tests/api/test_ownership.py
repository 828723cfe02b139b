"""Another user gets 404 for every object that is not theirs, on every endpoint; staff see all.

The walk is generated from the URL map, so a new endpoint with an object id in its path is
covered (or fails here) without editing this file."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.permissions import AllowAny

from accounts.tokens import token_create
from runs.models import Run
from tests.factories import UserFactory, make_workflow, run_now
from workflows.models import Credential, Workflow
from workflows.services import credential_create

pytestmark = pytest.mark.django_db

def api_routes():
    """(route, methods) of every /api/ endpoint whose path names an object."""
    found = []

    def walk(patterns, prefix):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = (prefix + str(p.pattern)).replace("^", "").replace("$", "")
                view = p.callback
                actions = getattr(view, "actions", None)
                if actions:
                    methods = set(actions)
                elif getattr(view, "cls", None):
                    methods = {m for m in ("get", "post", "put", "patch", "delete")
                               if hasattr(view.cls, m)}
                else:
                    continue
                # Public doors (webhook, resume URLs) authenticate by their own secret.
                permissions = getattr(getattr(view, "cls", None), "permission_classes", ())
                if permissions and all(perm is AllowAny for perm in permissions):
                    continue
                found.append((route, methods))

    walk(get_resolver().url_patterns, "")
    return [(r.removeprefix("api/"), m) for r, m in found
            if r.startswith("api/") and ("<" in r or "(?P<" in r)]


@pytest.fixture
def owned(user):
    workflow = make_workflow(owner=user, name="mine")
    run = run_now(workflow, {"x": 1})
    credential = credential_create(owner=user, name="key", kind="openai", data={"k": "v"})
    token, _ = token_create(user=user, name="mine")
    return {"workflow": workflow, "run": run, "credential": credential, "token": token}


def concrete(route, objects):
    """Fill a route's parameters with the ids of `objects` (the owner's)."""
    import re

    if route.startswith("runs/") and "<int:pk>" in route:
        return route.replace("<int:pk>", str(objects["run"].pk))
    ids = {"workflows": objects["workflow"].pk, "credentials": objects["credential"].pk,
           "auth/tokens": objects["token"].pk}
    path = route
    for prefix, pk in ids.items():
        if path.startswith(prefix):
            path = re.sub(r"\(\?P<pk>[^)]*\)|<int:pk>", str(pk), path)
    path = re.sub(r"\(\?P<project_id>[^)]*\)", "1", path)
    return re.sub(r"\(\?P<number>[^)]*\)", "1", path)


def test_the_walk_covers_every_object_endpoint():
    routes = {r for r, _ in api_routes()}
    assert len(routes) >= 8, routes  # workflows, versions, runs, cancel, credentials, tokens


def test_every_endpoint_is_404_for_another_user(owned, other_api, api):
    checked = 0
    for route, methods in api_routes():
        path = "/api/" + concrete(route, owned)
        assert "<" not in path, path
        assert "(" not in path, path
        for method in sorted(methods - {"head"}):  # HEAD is GET without a body
            response = getattr(other_api, method)(path, {}, format="json")
            assert response.status_code == 404, (method, path, response.status_code,
                                                  response.content)
            assert response.get("Content-Type") == "application/json", (method, path)
            assert b'"code":"not_found"' in response.content.replace(b" ", b""), (
                method, path, response.content)
            checked += 1
            # the owner reaches the same path (so the 404 is about ownership, not the path)
            if method == "get":
                assert api.get(path).status_code == 200, path
    assert checked >= 15
    # nothing changed hands or disappeared
    assert Workflow.objects.filter(pk=owned["workflow"].pk, name="mine").exists()
    assert Run.objects.get(pk=owned["run"].pk).status == "succeeded"
    assert Credential.objects.filter(pk=owned["credential"].pk).exists()
    assert Run.objects.count() == 1


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
