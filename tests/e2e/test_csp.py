"""The Content-Security-Policy in a real browser: the admin, the dashboard, the node editor,
the run viewer and the API docs work under it, without a single violation reported.
(Security work, issue 6; uses this directory's browser fixtures.)"""

from tests.factories import make_workflow, run_now

PASSWORD = "correct horse battery"

LISTEN = """window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"""


def violations(page):
    return page.evaluate("window.__csp || []")


def test_admin_editor_viewer_and_docs_work_under_the_policy(page, live_server, e2e_user):
    workflow = make_workflow(owner=e2e_user, name="csp")
    run = run_now(workflow, input={"a": 1})
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    page.add_init_script(LISTEN)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", e2e_user.email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    assert violations(page) == []

    page.goto(f"{live_server.url}/admin/workflows/workflow/{workflow.pk}/editor/")
    # the React app rendered its nodes: editor.js ran under the policy
    page.locator(".react-flow__node").first.wait_for()
    assert violations(page) == []

    page.goto(f"{live_server.url}/admin/runs/run/{run.pk}/change/")
    page.get_by_test_id("rerun").wait_for()
    assert violations(page) == []

    page.goto(f"{live_server.url}/api/docs/")
    page.locator(".swagger-ui .info").first.wait_for()
    assert violations(page) == []
    assert console == []
    assert page.js_errors == []
