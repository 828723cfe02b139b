"""The workflow admin: editor page, list actions, import/export."""

import io
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from nodes.registry import registry
from runs.models import Run
from tests.factories import make_workflow, simple_definition
from workflows.gallery import all_templates, available_templates
from workflows.models import Workflow

pytestmark = pytest.mark.django_db


def editor_config(response):
    html = response.content.decode()
    start = html.index('<script id="wfaib-editor-config" type="application/json">')
    start = html.index(">", start) + 1
    return json.loads(html[start:html.index("</script>", start)])


def test_editor_page_loads_the_bundle_with_its_config(staff_client, staff):
    wf = make_workflow(owner=staff)
    response = staff_client.get(reverse("admin:workflows_workflow_editor", args=[wf.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "editor/editor.js" in html
    assert "editor/editor.css" in html
    assert 'id="wfaib-editor"' in html
    config = editor_config(response)
    assert config["workflowId"] == wf.pk
    assert config["apiBase"] == "/api"
    assert config["csrfToken"]
    assert config["runUrlTemplate"].endswith("/runs/run/{id}/change/")
    assert config["templates"] == []


def test_editor_of_someone_elses_workflow_is_404(staff_client, other_staff):
    wf = make_workflow(owner=other_staff)
    response = staff_client.get(reverse("admin:workflows_workflow_editor", args=[wf.pk]))
    assert response.status_code == 404


def test_editor_needs_a_signed_in_staff_user(client, staff):
    wf = make_workflow(owner=staff)
    url = reverse("admin:workflows_workflow_editor", args=[wf.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_new_editor_offers_only_templates_whose_node_types_exist(staff_client):
    response = staff_client.get(reverse("admin:workflows_workflow_editor_new"))
    assert response.status_code == 200
    offered = {t["key"] for t in editor_config(response)["templates"]}
    expected = {t["key"] for t in all_templates()
                if all(n["type"] in registry for n in t["definition"]["nodes"])}
    assert offered == expected
    assert "webhook-llm-http" in offered


def test_templates_without_their_node_type_are_not_offered(monkeypatch):
    # The registry without `llm`, restored by monkeypatch after the test.
    monkeypatch.setattr(registry, "_types",
                        {k: v for k, v in registry._types.items() if k != "llm"})
    keys = {t["key"] for t in available_templates()}
    assert "webhook-llm-http" not in keys


def test_change_list_shows_last_run_and_links(staff_client, staff):
    from tests.factories import run_now

    wf = make_workflow(owner=staff, name="listed")
    run = run_now(wf, {"x": 1})
    response = staff_client.get(reverse("admin:workflows_workflow_changelist"))
    html = response.content.decode()
    assert response.status_code == 200
    assert reverse("admin:runs_run_change", args=[run.pk]) in html
    assert reverse("admin:workflows_workflow_editor", args=[wf.pk]) in html
    filtered = staff_client.get(reverse("admin:workflows_workflow_changelist")
                                + "?last_status=succeeded")
    assert "listed" in filtered.content.decode()
    none = staff_client.get(reverse("admin:workflows_workflow_changelist") + "?last_status=failed")
    assert "listed" not in none.content.decode()


def _action(client, action, *workflows):
    return client.post(reverse("admin:workflows_workflow_changelist"), {
        "action": action, "_selected_action": [w.pk for w in workflows],
    })


def test_activate_and_deactivate(staff_client, staff):
    wf = make_workflow(owner=staff)
    _action(staff_client, "deactivate", wf)
    wf.refresh_from_db()
    assert wf.is_active is False
    _action(staff_client, "activate", wf)
    wf.refresh_from_db()
    assert wf.is_active is True


def test_duplicate_creates_an_inactive_copy_owned_by_the_user(staff_client, staff):
    wf = make_workflow(owner=staff, name="orig")
    _action(staff_client, "duplicate", wf)
    copy = Workflow.objects.get(name="orig (copy)")
    assert copy.owner == staff
    assert copy.is_active is False
    assert copy.definition["nodes"] == wf.definition["nodes"]
    assert copy.version == 1


def test_run_now_starts_a_manual_run(staff_client, staff):
    wf = make_workflow(owner=staff)
    _action(staff_client, "run_now", wf)
    run = Run.objects.get(workflow=wf)
    assert run.trigger == Run.Trigger.MANUAL


def test_export_then_import_round_trips(staff_client, staff):
    wf = make_workflow(owner=staff, name="exported", description="about it")
    response = _action(staff_client, "export_json", wf)
    assert response["Content-Type"] == "application/json"
    assert 'filename="exported.json"' in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["definition"] == wf.definition
    assert data["name"] == "exported"

    upload = io.BytesIO(response.content)
    upload.name = "exported.json"
    response = staff_client.post(reverse("admin:workflows_workflow_import"),
                                 {"file": upload, "name": "re-imported"})
    assert response.status_code == 302
    imported = Workflow.objects.get(name="re-imported")
    assert imported.definition["nodes"] == wf.definition["nodes"]
    assert imported.description == "about it"
    assert response["Location"] == reverse("admin:workflows_workflow_editor", args=[imported.pk])


def test_import_shows_validation_errors_with_their_path(staff_client):
    bad = simple_definition({"id": "call", "type": "http", "config": {"url": "not a url"}})
    upload = io.BytesIO(json.dumps({"name": "bad", "definition": bad}).encode())
    upload.name = "bad.json"
    response = staff_client.post(reverse("admin:workflows_workflow_import"), {"file": upload})
    assert response.status_code == 200
    html = response.content.decode()
    assert "nodes[1].config.url" in html
    assert "not a valid URL" in html
    assert not Workflow.objects.filter(name="bad").exists()


def test_import_refuses_a_file_that_is_not_json(staff_client):
    upload = io.BytesIO(b"nodes: [")
    upload.name = "x.json"
    response = staff_client.post(reverse("admin:workflows_workflow_import"), {"file": upload})
    assert response.status_code == 200
    assert "Not a JSON file" in response.content.decode()


def test_change_form_keeps_json_editing_with_validation(staff_client, staff):
    wf = make_workflow(owner=staff)
    url = reverse("admin:workflows_workflow_change", args=[wf.pk])
    page = staff_client.get(url)
    assert reverse("admin:workflows_workflow_editor", args=[wf.pk]) in page.content.decode()
    bad = simple_definition({"id": "t", "type": "transform", "config": {}})
    response = staff_client.post(url, {
        "name": wf.name, "description": "", "is_active": "on", "definition": json.dumps(bad),
        "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0",
    })
    assert response.status_code == 200
    assert "give an expression or a mapping" in response.content.decode()


def _form_data(wf, **changes):
    return {"name": wf.name, "description": "", "is_active": "on", "based_on": wf.version,
            "definition": json.dumps(wf.definition), "versions-TOTAL_FORMS": "0",
            "versions-INITIAL_FORMS": "0", **changes}


def test_change_form_sets_retention_and_monthly_budgets(staff_client, staff):
    wf = make_workflow(owner=staff)
    url = reverse("admin:workflows_workflow_change", args=[wf.pk])
    html = staff_client.get(url).content.decode()
    for name in ("retention_days", "retention_max_runs", "monthly_token_budget",
                 "monthly_cost_budget"):
        assert f'name="{name}"' in html
    assert "Run retention" in html
    assert "Monthly budgets of model calls" in html
    response = staff_client.post(url, _form_data(
        wf, retention_days="30", retention_max_runs="0", monthly_token_budget="100000",
        monthly_cost_budget="12.5"))
    assert response.status_code == 302, response.content.decode()[-3000:]
    wf.refresh_from_db()
    assert (wf.retention_days, wf.retention_max_runs) == (30, 0)
    assert (wf.monthly_token_budget, wf.monthly_cost_budget) == (100000, Decimal("12.5"))
    # Emptied: the deployment's retention, no budget.
    response = staff_client.post(url, _form_data(wf))
    assert response.status_code == 302
    wf.refresh_from_db()
    assert (wf.retention_days, wf.retention_max_runs, wf.monthly_token_budget,
            wf.monthly_cost_budget) == (None, None, None, None)


@pytest.mark.parametrize(("field", "value"), [
    ("retention_days", "-1"), ("retention_max_runs", "many"), ("monthly_token_budget", "-5"),
    ("monthly_cost_budget", "1e99")])
def test_bad_retention_or_budget_values_are_refused_naming_the_field(staff_client, staff,
                                                                    field, value):
    wf = make_workflow(owner=staff)
    url = reverse("admin:workflows_workflow_change", args=[wf.pk])
    response = staff_client.post(url, _form_data(wf, **{field: value}))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors.keys() == {field}
    wf.refresh_from_db()
    assert getattr(wf, field) is None


def test_the_add_form_sets_retention(staff_client, staff):
    definition = simple_definition()
    response = staff_client.post(reverse("admin:workflows_workflow_add"), {
        "name": "kept short", "description": "", "is_active": "on",
        "definition": json.dumps(definition), "retention_days": "7",
        "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0"})
    assert response.status_code == 302, response.content.decode()[-3000:]
    wf = Workflow.objects.get(name="kept short")
    assert (wf.retention_days, wf.retention_max_runs, wf.owner) == (7, None, staff)


def test_ports_endpoint_names_a_switchs_ports_from_its_config(staff_client):
    body = {"nodes": [
        {"id": "route", "type": "switch",
         "config": {"cases": [{"name": "big", "expression": "input > 10"}]}},
        {"id": "call", "type": "http", "config": {}},
        {"id": "ghost", "type": "no-such-type", "config": {}},
    ]}
    response = staff_client.post(reverse("admin:workflows_workflow_ports"), json.dumps(body),
                                 content_type="application/json")
    assert response.status_code == 200
    assert response.json()["ports"] == {"route": ["big", "default"], "call": ["main"]}


def test_ports_endpoint_refuses_bad_json(staff_client):
    response = staff_client.post(reverse("admin:workflows_workflow_ports"), "{",
                                 content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"


def test_presence_names_the_other_editors_and_their_saves(client, staff, db):
    from django.core.cache import cache

    from tests.factories import UserFactory
    from workflows.services import workflow_update

    admin_user = UserFactory(is_staff=True, is_superuser=True)
    wf = make_workflow(owner=staff)
    url = reverse("admin:workflows_workflow_presence", args=[wf.pk])
    cache.delete(f"wfaib:presence:{wf.pk}")

    client.force_login(staff)
    first = client.post(url).json()
    assert first == {"others": [], "version": 1, "version_by": staff.email,
                     "version_by_me": True}

    client.force_login(admin_user)
    seen = client.post(url).json()
    assert seen["others"] == [staff.email]
    workflow_update(workflow=wf, user=admin_user,
                    definition={**wf.definition, "name": "renamed by admin"})

    client.force_login(staff)
    after = client.post(url).json()
    assert after["others"] == [admin_user.email]
    assert after["version"] == 2
    assert after["version_by"] == admin_user.email
    assert after["version_by_me"] is False


def test_presence_of_someone_elses_workflow_is_404(staff_client, other_staff):
    wf = make_workflow(owner=other_staff)
    response = staff_client.post(reverse("admin:workflows_workflow_presence", args=[wf.pk]))
    assert response.status_code == 404
