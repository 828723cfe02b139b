"""The workflow list (issue 19, "Workflow list"): tags and their filter, search by name and
node type, sorting by last run and failure rate; at desktop and phone widths, light and
dark (fixtures in walk.py)."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.factories import make_workflow, run_now, simple_definition

from .conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def rows(page):
    return page.locator("#result_list tbody th a")


def test_workflow_list_tags_search_and_sorting(walk, live_server, e2e_user):
    page = walk
    flaky = make_workflow(owner=e2e_user, name="Flaky divider", tags=["billing"],
                          definition=simple_definition(
                              {"id": "div", "type": "transform",
                               "config": {"expression": "1 / input['n']"}}))
    calm = make_workflow(owner=e2e_user, name="Calm caller", tags=["ops"],
                         definition=simple_definition(
                             {"id": "call", "type": "http",
                              "config": {"url": "https://example.org"}}))
    steady = make_workflow(owner=e2e_user, name="Steady", definition=simple_definition(
        {"id": "shape", "type": "transform", "config": {"expression": "input"}}))
    run_now(flaky, input={"n": 0})
    run_now(flaky, input={"n": 1})
    run_now(steady, input={})
    sign_in(page, live_server.url, e2e_user.email)
    url = live_server.url + reverse("admin:workflows_workflow_changelist")
    page.goto(url)
    expect(rows(page)).to_have_count(3)
    assert calm.runs.count() == 0
    expect(page.locator("#result_list")).to_contain_text("50 %")
    page.shot("list", full_page=True)

    # The tag filter (the sidebar's filter, or the tag's own link in the row).
    page.locator("#result_list a.wf-tag", has_text="billing").click()
    expect(rows(page)).to_have_text(["Flaky divider"])
    page.goto(url)

    # Search by name, then by node type.
    page.fill("#searchbar", "caller")
    page.keyboard.press("Enter")
    expect(rows(page)).to_have_text(["Calm caller"])
    page.fill("#searchbar", "http")
    page.keyboard.press("Enter")
    expect(rows(page)).to_have_text(["Calm caller"])
    page.fill("#searchbar", "type:transform")
    page.keyboard.press("Enter")
    expect(rows(page)).to_have_count(2)
    assert sorted(rows(page).all_inner_texts()) == ["Flaky divider", "Steady"]
    page.goto(url)

    # Sort by failure rate: ascending (0 % before 50 %), then descending; then by last run.
    rate = page.locator("th.column-failure_rate_column a").first
    rate.click()
    expect(page.locator("th.column-failure_rate_column")).to_have_class(re.compile("ascending"))
    names = rows(page).all_inner_texts()
    assert names.index("Steady") < names.index("Flaky divider"), names
    page.locator("th.column-failure_rate_column .sortoptions a.toggle").click()
    expect(page.locator("th.column-failure_rate_column")).to_have_class(re.compile("descending"))
    names = rows(page).all_inner_texts()
    assert names.index("Flaky divider") < names.index("Steady"), names
    page.shot("sorted", full_page=True)
    page.goto(url)
    page.locator("th.column-last_run a").first.click()
    expect(page.locator("th.column-last_run")).to_have_class(re.compile("ascending"))
    names = rows(page).all_inner_texts()
    assert names.index("Flaky divider") < names.index("Steady"), names  # flaky ran first
    assert page.js_errors == []
