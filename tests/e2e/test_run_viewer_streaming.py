"""The run viewer shows a model's answer as it streams, then the stored output."""

import threading

from playwright.sync_api import expect

from runs.engine.executor import execute_run
from runs.services import run_start
from tests.factories import make_workflow, simple_definition

from .conftest import sign_in


def test_the_answer_streams_into_the_run_viewer(page, live_server, e2e_user, llm_server):
    workflow = make_workflow(owner=e2e_user, definition=simple_definition({
        "id": "ask", "type": "llm", "config": {
            "prompt": "tell me", "base_url": llm_server.url + "/v1", "api_key": "sk-test",
            "model": "m"}}))
    llm_server.reply("Once upon a <b>time</b>")
    llm_server.gate = threading.Event()  # the stream pauses after its first piece
    run = run_start(workflow=workflow, input={}, execute=False)
    worker = threading.Thread(target=execute_run, args=(run.pk,))
    sign_in(page, live_server.url, e2e_user.email)
    worker.start()
    try:
        page.goto(f"{live_server.url}/admin/runs/run/{run.pk}/change/")
        expect(page.get_by_test_id("partial-ask")).to_have_text("Once ")
    finally:
        llm_server.gate.set()
        worker.join(30)
    # the page reloads when the run ends: the stored output, the partial gone
    expect(page.get_by_test_id("run-status")).to_have_text("succeeded")
    expect(page.get_by_test_id("output-ask")).to_contain_text("Once upon a <b>time</b>")
    expect(page.get_by_test_id("partial-ask")).to_have_count(0)
    assert page.js_errors == []
