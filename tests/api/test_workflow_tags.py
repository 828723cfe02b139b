"""Workflow tags through the API (workflows/tags.py): normalised, and refused when bad."""

import pytest

from tests.factories import make_workflow

pytestmark = pytest.mark.django_db


def test_tags_through_the_api_and_their_abuse(user, client_for):
    api = client_for(user)
    wf = make_workflow(owner=user, name="Tagged")
    url = f"/api/workflows/{wf.pk}"
    response = api.patch(url, {"tags": ["Billing", "ops"]}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["tags"] == ["billing", "ops"]
    wf.refresh_from_db()
    assert wf.tags == ["billing", "ops"]
    for bad in ("billing", ["<script>"], [{"a": 1}], [f"t{i}" for i in range(21)], None):
        response = api.patch(url, {"tags": bad}, format="json")
        assert response.status_code == 400, bad
        assert "tags" in str(response.json()), response.json()
    wf.refresh_from_db()
    assert wf.tags == ["billing", "ops"]
