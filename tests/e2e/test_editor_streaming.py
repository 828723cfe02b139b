"""The editor's node panel shows a model's answer as it streams (issue 14), at desktop and
phone widths in light and dark: a workflow with an llm node runs from the editor against a
loopback model server whose stream waits after each piece until the test lets it go on; the
Output pane shows the text growing while the run is still running, then the stored output."""

import threading

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from runs.models import Run
from tests.factories import make_workflow, simple_definition

from .conftest import sign_in
from .walk import no_sideways_scroll, select_node

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_answer_streams_into_the_output_pane(walk, live_server, e2e_user, llm_server,
                                                 settings):
    settings.WFAIB = {**settings.WFAIB, "LLM_STREAM_INTERVAL": 0}  # every piece is shown
    page = walk
    workflow = make_workflow(owner=e2e_user, name="Streaming", definition=simple_definition({
        "id": "ask", "type": "llm", "config": {
            "prompt": "tell me", "base_url": llm_server.url + "/v1", "api_key": "sk-test",
            "model": "m"}}))
    llm_server.reply("Once upon a <b>time</b>")
    llm_server.steps = threading.Semaphore(0)  # the stream waits after each piece
    sign_in(page, live_server.url, e2e_user.email)
    page.goto(live_server.url + reverse("admin:workflows_workflow_editor", args=[workflow.pk]))
    select_node(page, "ask")
    page.get_by_test_id("tab-output").click()
    expect(page.get_by_test_id("pane-output")).to_contain_text("No run yet")

    page.get_by_test_id("run").click()
    page.get_by_test_id("start-run").click()
    shown = page.get_by_test_id("run-partial")
    bar = page.get_by_test_id("run-bar")
    try:
        for text in ("Once ", "Once upon ", "Once upon a ", "Once upon a <b>time</b>"):
            expect(shown).to_have_text(text)
            expect(shown.locator("b")).to_have_count(0)  # text, never markup
            # still running: the stream waits for the test, and so does the run
            expect(bar).to_have_attribute("data-run-status", "running")
            assert Run.objects.get(workflow=workflow).status == Run.Status.RUNNING
            if text == "Once upon ":
                no_sideways_scroll(page)
                shown.scroll_into_view_if_needed()  # below the canvas on a phone
                page.shot("streaming")
            llm_server.steps.release()
    finally:
        llm_server.steps.release(100)

    # The node ended: the stored output replaces the partial text.
    expect(bar).to_have_attribute("data-run-status", "succeeded")
    expect(shown).to_have_count(0)
    expect(page.get_by_test_id("run-output")).to_contain_text("Once upon a <b>time</b>")
    run = Run.objects.get(workflow=workflow)
    assert run.logs.get(node_id="ask").output["content"] == "Once upon a <b>time</b>"
    page.get_by_test_id("run-output").scroll_into_view_if_needed()
    page.shot("final")
    assert page.js_errors == []
