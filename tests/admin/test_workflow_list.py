"""The workflow list: tags (form, filter), search by node type, last run and failure rate
columns sortable (workflows/admin_list.py)."""

import json

import pytest
from django.urls import reverse

from tests.factories import make_workflow, run_now, simple_definition
from workflows.models import Workflow
from workflows.tags import clean_tags

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:workflows_workflow_changelist"


def names(response) -> list[str]:
    return [w.name for w in response.context["cl"].result_list]


def test_clean_tags_normalises_and_refuses_bad_ones():
    assert clean_tags([" Billing ", "ops", "billing", "two  words"]) == [
        "billing", "ops", "two words"]
    assert clean_tags(None) == []
    for bad in ("billing", [1], ["-x"], ["a" * 33], ["<b>"], [f"t{i}" for i in range(21)]):
        with pytest.raises(ValueError):  # noqa: PT011 (the message is checked through the API)
            clean_tags(bad)


def test_tags_in_the_admin_form_and_the_filter(staff_client, staff):
    wf = make_workflow(owner=staff, name="Billing flow")
    make_workflow(owner=staff, name="Other")
    change = reverse("admin:workflows_workflow_change", args=[wf.pk])
    form = staff_client.get(change).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "project"}
    data.update(name="Billing flow", project=wf.project_id, is_active="on",
                definition=form.initial["definition"], tags="Billing, ops ,",
                based_on=wf.version)
    data["definition"] = json.dumps(data["definition"])
    prefix = "versions"
    data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    response = staff_client.post(change, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    wf.refresh_from_db()
    assert wf.tags == ["billing", "ops"]
    data.update(tags="ok, <bad>", based_on=Workflow.objects.get(pk=wf.pk).version)
    response = staff_client.post(change, data)
    assert response.status_code == 200
    assert "tags" in response.context["adminform"].form.errors

    listing = staff_client.get(reverse(CHANGELIST))
    assert ">billing</a>" in listing.content.decode()
    assert names(staff_client.get(reverse(CHANGELIST), {"tag": "billing"})) == ["Billing flow"]
    assert names(staff_client.get(reverse(CHANGELIST), {"tag": "<nope>"})) == []


def test_search_by_name_and_by_node_type(staff_client, staff):
    make_workflow(owner=staff, name="Calls an API", definition=simple_definition(
        {"id": "call", "type": "http", "config": {"url": "https://example.org"}}))
    make_workflow(owner=staff, name="Just shapes", definition=simple_definition(
        {"id": "shape", "type": "transform", "config": {"expression": "input"}}))
    url = reverse(CHANGELIST)
    assert names(staff_client.get(url, {"q": "shapes"})) == ["Just shapes"]
    assert names(staff_client.get(url, {"q": "http"})) == ["Calls an API"]
    assert names(staff_client.get(url, {"q": "type:transform"})) == ["Just shapes"]
    assert sorted(names(staff_client.get(url, {"q": "webhook"}))) == [
        "Calls an API", "Just shapes"]
    assert names(staff_client.get(url, {"q": "type:nosuchtype"})) == []


def test_sorting_by_last_run_and_failure_rate(staff_client, staff):
    good = make_workflow(owner=staff, name="Good", definition=simple_definition(
        {"id": "ok", "type": "transform", "config": {"expression": "input"}}))
    bad = make_workflow(owner=staff, name="Flaky", definition=simple_definition(
        {"id": "div", "type": "transform", "config": {"expression": "1 / input['n']"}}))
    make_workflow(owner=staff, name="Never run")
    run_now(good, input={})
    run_now(bad, input={"n": 0})
    run_now(bad, input={"n": 0})
    run_now(bad, input={"n": 1})
    url = reverse(CHANGELIST)
    response = staff_client.get(url)
    columns = response.context["cl"].list_display
    rate_index = list(columns).index("failure_rate_column")
    last_index = list(columns).index("last_run")
    # Ascending by failure rate: 0 % before 67 %, never run (no rate) at one end.
    ordered = names(staff_client.get(url, {"o": str(rate_index)}))
    assert ordered.index("Good") < ordered.index("Flaky")
    ordered = names(staff_client.get(url, {"o": f"-{rate_index}"}))
    assert ordered.index("Flaky") < ordered.index("Good")
    html = staff_client.get(url).content.decode()
    assert "67 %" in html
    assert "2 of 3 runs failed" in html
    # By last run: the newest run first when descending.
    ordered = names(staff_client.get(url, {"o": f"-{last_index}"}))
    assert ordered.index("Flaky") < ordered.index("Good")
