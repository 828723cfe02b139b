"""The editor walk of issue 19, finding by finding, at desktop and phone widths in light and
dark (fixtures in walk.py): layout and branding, node visuals, placement, the node panel with
the last run's data, conflicts, webhook URLs, export/import/restore, and the polish items."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.factories import make_workflow, run_now, simple_definition

from .conftest import sign_in
from .walk import no_sideways_scroll, select_node, view_ready

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def editor_url(live_server, workflow=None) -> str:
    if workflow is None:
        return live_server.url + reverse("admin:workflows_workflow_editor_new")
    return live_server.url + reverse("admin:workflows_workflow_editor", args=[workflow.pk])


def test_layout_branding_and_phone_canvas(walk, live_server, e2e_user):
    page = walk
    sign_in(page, live_server.url, e2e_user.email)
    # Dashboard: branded, no sideways scroll, no empty chart without runs.
    expect(page.get_by_test_id("brand")).to_have_text("WFAIB")
    expect(page.locator("#site-name")).not_to_contain_text("Django administration")
    assert "Django" not in page.title()
    expect(page.get_by_test_id("runs-chart")).to_have_count(0)
    expect(page.get_by_test_id("runs-chart-empty")).to_be_visible()
    no_sideways_scroll(page)
    page.shot("dashboard", full_page=True)

    # With runs (one failed, with a long error), the chart shows and nothing scrolls sideways.
    workflow = make_workflow(owner=e2e_user, name="Layout with a rather long workflow name here")
    failing = make_workflow(owner=e2e_user, name="Fails", definition=simple_definition(
        {"id": "boom", "type": "transform", "config": {"expression": "input['missing_key_here']"}}))
    run_now(workflow, input={"a": 1})
    run_now(failing, input={"a": 1})
    page.reload()
    expect(page.get_by_test_id("runs-chart")).to_be_visible()
    expect(page.get_by_test_id("recent-failures")).to_contain_text("boom")
    no_sideways_scroll(page)
    page.shot("dashboard-runs", full_page=True)

    page.goto(live_server.url + reverse("admin:workflows_workflow_changelist"))
    crumbs = page.locator("ol.breadcrumbs").inner_text()
    assert crumbs.split().count("Workflows") == 1, crumbs
    no_sideways_scroll(page)

    # The editor: the canvas has height at every width.
    page.goto(editor_url(live_server, workflow))
    view_ready(page)
    box = page.get_by_test_id("canvas").bounding_box()
    assert box["height"] >= 300, box
    expect(page.get_by_test_id("node-trigger")).to_be_visible()
    crumbs = page.locator("ol.breadcrumbs").inner_text()
    assert crumbs.split().count("Workflows") == 1, crumbs
    no_sideways_scroll(page)
    page.shot("editor")

    # A new workflow: the templates sit over the empty canvas; picking one moves nothing.
    page.goto(editor_url(live_server))
    view_ready(page)
    # Where the canvas is inside the editor (the page itself may scroll to the button).
    where = """() => { const r = document.querySelector('[data-testid=canvas]')
        .getBoundingClientRect(), e = document.querySelector('[data-testid=editor]')
        .getBoundingClientRect(); return [r.left - e.left, r.top - e.top, r.width, r.height] }"""
    expect(page.get_by_test_id("palette-webhook")).to_be_visible()
    before = page.evaluate(where)
    page.get_by_test_id("templates").get_by_role("button", name="Scheduled HTTP check").click()
    expect(page.get_by_test_id("node-check")).to_be_attached()
    expect(page.get_by_test_id("templates")).to_have_count(0)
    assert page.evaluate(where) == before
    assert page.js_errors == []


def boxes(page, *node_ids):
    return {i: page.get_by_test_id(f"node-{i}").bounding_box() for i in node_ids}


def overlapping(a, b) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


def test_node_visuals_and_placement(walk, live_server, e2e_user):
    page = walk
    workflow = make_workflow(owner=e2e_user, name="Visuals", definition=simple_definition(
        {"id": "shape", "type": "transform", "config": {"expression": "{'n': input['n']}"}},
        {"id": "wait", "type": "delay", "config": {"seconds": 0}}))
    run_now(workflow, input={"n": 1})
    sign_in(page, live_server.url, e2e_user.email)
    page.goto(editor_url(live_server, workflow))
    view_ready(page)

    # SVG icons (no emoji), a colour per category, one size, a status mark from the last run.
    for node_id in ("trigger", "shape", "wait"):
        node = page.get_by_test_id(f"node-{node_id}")
        expect(node.locator(".wf-node-icon svg")).to_have_count(1)
        expect(node).to_have_attribute("data-status", "succeeded")
        expect(page.get_by_test_id(f"mark-{node_id}")).to_be_visible()
    sizes = {(round(b["width"]), round(b["height"]))
             for b in boxes(page, "trigger", "shape", "wait").values()}
    assert len(sizes) == 1, sizes
    colours = page.evaluate("""() => ['trigger', 'shape', 'wait'].map(id => getComputedStyle(
        document.querySelector(`[data-testid=node-${id}] .wf-node-icon`)).backgroundColor)""")
    assert len(set(colours)) == 3, colours  # trigger, core, flow
    # Ports aligned: an edge between two nodes at the same height is straight.
    out = page.locator('[data-testid="node-shape"] .react-flow__handle.source').bounding_box()
    inp = page.locator('[data-testid="node-shape"] .react-flow__handle.target').bounding_box()
    assert abs((out["y"] + out["height"] / 2) - (inp["y"] + inp["height"] / 2)) < 1
    page.shot("nodes")

    # "+" on an output port: a connected node to the right of its source.
    edges = 2  # trigger -> shape -> wait, drawn once the nodes are measured
    expect(page.locator(".react-flow__edge")).to_have_count(edges)
    page.get_by_test_id("port-plus-wait-main").click()
    page.get_by_test_id("quick-add").get_by_test_id("quick-add-http").click()
    expect(page.get_by_test_id("node-http")).to_be_visible()
    expect(page.locator(".react-flow__edge")).to_have_count(edges + 1)
    b = boxes(page, "wait", "http")
    assert b["http"]["x"] > b["wait"]["x"] + b["wait"]["width"]
    assert abs(b["http"]["y"] - b["wait"]["y"]) < 2

    # The palette's "+" twice: two new nodes, on top of nothing.
    page.get_by_role("button", name="Add Transform").click()
    page.get_by_role("button", name="Add Transform").click()
    ids = ["trigger", "shape", "wait", "http", "transform", "transform_2"]
    expect(page.get_by_test_id("node-transform_2")).to_be_visible()
    b = boxes(page, *ids)
    for i, x in enumerate(ids):
        for y in ids[i + 1:]:
            assert not overlapping(b[x], b[y]), (x, y, b[x], b[y])

    # Paste lands at the pointer; a second paste there does not stack on the first.
    page.get_by_test_id("close-panel").click()
    page.get_by_role("button", name="Fit View").click()
    page.locator('[data-testid="node-shape"] .wf-node-label').click()
    page.keyboard.press("Control+c")
    canvas = page.get_by_test_id("canvas").bounding_box()
    mx, my = canvas["x"] + canvas["width"] * 0.15, canvas["y"] + canvas["height"] * 0.8
    page.mouse.move(mx, my)
    page.keyboard.press("Control+v")
    expect(page.get_by_test_id("node-shape_2")).to_be_visible()
    pasted = page.get_by_test_id("node-shape_2").bounding_box()
    assert abs(pasted["x"] - mx) < 3, (pasted, mx)
    assert abs(pasted["y"] - my) < 3, (pasted, my)
    page.keyboard.press("Control+v")
    expect(page.get_by_test_id("node-shape_3")).to_be_attached()
    b = boxes(page, "shape_2", "shape_3")
    assert not overlapping(b["shape_2"], b["shape_3"])

    # Pasting an exported workflow adds its nodes (with its edges).
    exported = {"format": "wfaib-workflow/1", "name": "other", "definition": {
        "nodes": [{"id": "a", "type": "webhook", "config": {}, "position": {"x": 0, "y": 0}},
                  {"id": "b", "type": "transform", "config": {"expression": "input"},
                   "position": {"x": 280, "y": 0}}],
        "edges": [{"from": "a", "to": "b"}]}}
    page.evaluate("t => navigator.clipboard.writeText(t)", __import__("json").dumps(exported))
    before = page.locator(".react-flow__edge").count()
    page.keyboard.press("Control+v")
    expect(page.get_by_test_id("node-a")).to_be_attached()
    expect(page.get_by_test_id("node-b")).to_be_attached()
    expect(page.locator(".react-flow__edge")).to_have_count(before + 1)
    page.shot("placement")
    assert page.js_errors == []


def test_node_panel_shows_input_parameters_output_of_the_last_run(walk, live_server, e2e_user):
    page = walk
    workflow = make_workflow(owner=e2e_user, name="Panel", definition=simple_definition(
        {"id": "shape", "type": "transform",
         "config": {"expression": "{'double': input['n'] * 2}"}}))
    run = run_now(workflow, input={"n": 21})
    sign_in(page, live_server.url, e2e_user.email)
    page.goto(editor_url(live_server, workflow))
    select_node(page, "shape")
    panel = page.get_by_test_id("node-panel")
    expect(panel.get_by_role("tab")).to_have_text(["Input", "Parameters", "Output"])
    # One pane at a time beside the canvas; the run data comes from the last run.
    expect(page.get_by_test_id("pane-parameters")).to_be_visible()
    page.get_by_test_id("tab-input").click()
    expect(page.get_by_test_id("pane-input")).to_be_visible()
    expect(page.get_by_test_id("pane-input")).to_contain_text('"n": 21')
    expect(page.get_by_test_id("pane-parameters")).to_be_hidden()
    page.get_by_test_id("tab-output").click()
    expect(page.get_by_test_id("run-output")).to_contain_text('"double": 42')

    # Expanded (double click): Input | Parameters | Output side by side on a desktop,
    # one under the other on a phone.
    page.get_by_test_id("close-panel").click()
    expect(panel).to_have_count(0)
    page.locator('[data-testid="node-shape"] .wf-node-label').dblclick()
    expect(panel).to_have_attribute("data-expanded", "1")
    panes = [page.get_by_test_id(f"pane-{p}") for p in ("input", "parameters", "output")]
    for pane in panes:
        expect(pane).to_be_visible()
    b = [p.bounding_box() for p in panes]
    if page.phone:
        assert b[0]["y"] < b[1]["y"] < b[2]["y"], b
    else:
        assert b[0]["x"] < b[1]["x"] < b[2]["x"], b
        assert abs(b[0]["y"] - b[2]["y"]) < 2, b
    expect(page.locator('[data-field="expression"] .cm-content')).to_be_visible()
    page.shot("node-panel")
    page.get_by_test_id("expand-panel").click()
    expect(panel).to_have_attribute("data-expanded", "0")

    # The run viewer of that run.
    page.goto(live_server.url + reverse("admin:runs_run_change", args=[run.pk]))
    expect(page.get_by_test_id("run-status")).to_have_text("succeeded")
    page.shot("run-viewer", full_page=True)
    assert page.js_errors == []


def test_webhook_node_shows_its_urls_and_curl(walk, live_server, e2e_user):
    import json
    import urllib.request

    page = walk
    workflow = make_workflow(owner=e2e_user, name="Hook", definition=simple_definition(
        {"id": "echo", "type": "transform", "config": {"expression": "input"}}))
    sign_in(page, live_server.url, e2e_user.email)
    page.goto(editor_url(live_server, workflow))
    select_node(page, "trigger")
    production = f"{live_server.url}/api/webhook/{workflow.pk}"
    expect(page.get_by_test_id("webhook-production-url")).to_have_text(production)
    expect(page.get_by_test_id("webhook-test-url")).to_have_text(
        f"{live_server.url}/api/workflows/{workflow.pk}/runs")
    expect(page.get_by_test_id("webhook-curl")).to_contain_text(f"curl -X POST '{production}'")
    expect(page.get_by_test_id("webhook-test-curl")).to_contain_text("Authorization: Token")
    page.get_by_test_id("copy-production-url").click()
    expect(page.get_by_test_id("copy-production-url")).to_have_attribute("data-copied", "1")
    assert page.evaluate("navigator.clipboard.readText()") == production
    page.get_by_test_id("copy-curl").click()
    assert page.evaluate("navigator.clipboard.readText()").startswith("curl -X POST")
    page.shot("webhook")

    # The URL shown is the one that answers.
    request = urllib.request.Request(production, data=json.dumps({"hi": 1}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert json.loads(response.read())["result"] == {"hi": 1}

    # A new, unsaved workflow has no URL yet, and says so.
    page.goto(editor_url(live_server))
    page.get_by_role("button", name="Add Webhook").click()
    expect(page.get_by_test_id("webhook-info")).to_contain_text("Save the workflow")
    assert page.js_errors == []


def node_config(workflow, node_id):
    workflow.refresh_from_db()
    return next(n for n in workflow.definition["nodes"] if n["id"] == node_id)["config"]


def test_conflict_shows_their_changes_then_merge_or_overwrite(walk, live_server, e2e_user):
    from workflows.services import workflow_update

    page = walk
    workflow = make_workflow(owner=e2e_user, name="Shared", definition=simple_definition(
        {"id": "shape", "type": "transform", "config": {"expression": "input"}}))
    sign_in(page, live_server.url, e2e_user.email)
    page.goto(editor_url(live_server, workflow))
    expect(page.get_by_test_id("version")).to_have_text("v1")

    # They change the trigger's description (v2); I change the transform and the name.
    def theirs(**config):
        definition = {**workflow.definition}
        definition["nodes"] = [
            {**n, "config": {**n["config"], **config.get(n["id"], {})}}
            for n in definition["nodes"]]
        workflow_update(workflow=workflow, user=e2e_user, definition=definition)
        workflow.refresh_from_db()

    theirs(trigger={"description": "theirs"})
    page.get_by_label("Workflow name").fill("Mine")
    select_node(page, "shape")
    page.locator('[data-field="expression"] .cm-content').fill("{'mine': 1}")
    page.get_by_test_id("save").click()
    banner = page.get_by_test_id("conflict")
    expect(banner).to_be_visible()
    expect(page.get_by_test_id("conflict-theirs")).to_contain_text(
        'node trigger: description: — → "theirs"')
    expect(page.get_by_test_id("conflict-mine")).to_contain_text("node shape: expression")
    expect(page.get_by_test_id("conflict-mine")).to_contain_text("name: Shared → Mine")
    page.shot("conflict")

    # Merge mine on top of theirs, then save: both changes are kept.
    page.get_by_test_id("merge-on-top").click()
    expect(banner).to_have_count(0)
    expect(page.get_by_test_id("notice")).to_contain_text("on top of version 2")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("version")).to_have_text("v3")
    assert node_config(workflow, "trigger") == {"description": "theirs"}
    assert node_config(workflow, "shape") == {"expression": "{'mine': 1}"}
    assert workflow.name == "Mine"

    # Or overwrite: my version replaces theirs.
    theirs(shape={"expression": "'theirs again'"})
    select_node(page, "shape")
    page.locator('[data-field="expression"] .cm-content').fill("{'mine': 2}")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("conflict-theirs")).to_contain_text("theirs again")
    page.get_by_test_id("overwrite").click()
    expect(page.get_by_test_id("version")).to_have_text("v5")
    expect(banner).to_have_count(0)
    assert node_config(workflow, "shape") == {"expression": "{'mine': 2}"}
    assert page.js_errors == []


def test_export_import_and_restore_are_undoable(walk, live_server, e2e_user, tmp_path):
    import json

    from workflows.services import workflow_update

    page = walk
    workflow = make_workflow(owner=e2e_user, name="Moves", definition=simple_definition(
        {"id": "shape", "type": "transform", "config": {"expression": "input"}}))
    v2 = simple_definition({"id": "shape", "type": "transform", "config": {"expression": "input"}},
                           {"id": "later", "type": "delay", "config": {"seconds": 1}})
    workflow_update(workflow=workflow, user=e2e_user, definition=v2)
    sign_in(page, live_server.url, e2e_user.email)
    page.goto(editor_url(live_server, workflow))
    view_ready(page)

    # Export from the editor's menu.
    page.get_by_test_id("menu").click()
    with page.expect_download() as download:
        page.get_by_test_id("export").click()
    exported = json.loads(open(download.value.path()).read())
    assert exported["format"] == "wfaib-workflow/1"
    assert exported["name"] == "Moves"
    assert [n["id"] for n in exported["definition"]["nodes"]] == ["trigger", "shape", "later"]

    # Import replaces the canvas as one step that undo takes back.
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": "wfaib-workflow/1", "name": "Imported", "definition": {
        "nodes": [{"id": "hook", "type": "webhook", "config": {}}], "edges": []}}))
    page.get_by_test_id("import-file").set_input_files(str(other))
    expect(page.get_by_test_id("node-hook")).to_be_visible()
    expect(page.get_by_test_id("node-shape")).to_have_count(0)
    expect(page.get_by_label("Workflow name")).to_have_value("Imported")
    page.get_by_test_id("undo").click()
    expect(page.get_by_test_id("node-shape")).to_be_visible()
    expect(page.get_by_test_id("node-hook")).to_have_count(0)
    expect(page.get_by_label("Workflow name")).to_have_value("Moves")
    page.get_by_test_id("redo").click()
    expect(page.get_by_test_id("node-hook")).to_be_visible()
    page.get_by_test_id("undo").click()

    # A file that is no workflow is refused, and the canvas stays.
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    page.get_by_test_id("import-file").set_input_files(str(bad))
    expect(page.get_by_test_id("notice")).to_contain_text("not a workflow export")
    expect(page.get_by_test_id("node-later")).to_be_visible()

    # Restoring version 1 is one undoable step too.
    page.get_by_test_id("history").click()
    page.get_by_test_id("version-history").get_by_role("button", name="restore").click()
    expect(page.get_by_test_id("node-later")).to_have_count(0)
    page.keyboard.press("Control+z")
    expect(page.get_by_test_id("node-later")).to_be_visible()
    expect(page.get_by_test_id("node-shape")).to_be_visible()
    page.shot("restore-undone")
    assert page.js_errors == []


def test_polish_labels_ids_inline_validation_warnings_and_help(walk, live_server, e2e_user):
    page = walk
    sign_in(page, live_server.url, e2e_user.email)
    page.goto(editor_url(live_server))
    page.get_by_role("button", name="Add HTTP request").click()
    expect(page.locator("#node-id")).to_have_value("http")

    # Unique element ids (config and settings both have a timeout), readable labels.
    duplicates = page.evaluate("""() => { const seen = {}, dup = [];
        for (const e of document.querySelectorAll('[id]')) {
          if (seen[e.id]) dup.push(e.id); seen[e.id] = 1 }
        return dup }""")
    assert duplicates == []
    expect(page.locator('[data-field="url"] label')).to_contain_text("URL")
    expect(page.locator('[data-field="json_body"] label')).to_contain_text("JSON body")

    # Checked while typing, before any save.
    page.locator('[data-field="url"] input').fill("not a url")
    expect(page.get_by_test_id("field-check-url")).to_contain_text("not a valid URL")
    page.locator('[data-field="url"] input').fill("https://example.com/ok")
    expect(page.get_by_test_id("field-check-url")).to_have_count(0)

    # Invalid JSON is shown and blocks the save; it is never silently replaced.
    body = page.locator('[data-field="json_body"] textarea')
    body.fill('{"a": ')
    expect(page.get_by_test_id("json-error-json_body")).to_contain_text("not valid JSON")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("notice")).to_contain_text("json_body")
    expect(page.get_by_test_id("version")).to_have_text("unsaved")
    body.fill('{"a": 1}')
    expect(page.get_by_test_id("json-error-json_body")).to_have_count(0)

    # An unconnected node is marked, and saving warns about it.
    page.get_by_role("button", name="Add Webhook").click()
    expect(page.get_by_test_id("node-unconnected-http")).to_be_visible()
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("version")).to_have_text("v1")
    notice = page.get_by_test_id("notice")
    expect(notice).to_have_attribute("data-kind", "warning")
    expect(notice).to_contain_text("http is not connected")

    # Run with errors: the dialog stays and says what is wrong.
    page.get_by_test_id("port-plus-webhook-main").click()
    page.get_by_test_id("quick-add-http").click()
    page.locator('[data-field="url"] input').fill("ftp://nope")
    page.get_by_test_id("run").click()
    page.get_by_test_id("start-run").click()
    expect(page.get_by_test_id("run-dialog")).to_be_visible()
    expect(page.get_by_test_id("run-dialog-problems")).to_contain_text("http_2.url")
    page.shot("run-with-errors")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("run-dialog")).to_have_count(0)

    # "?" shows the keyboard shortcuts.
    page.get_by_test_id("close-panel").click()
    page.locator(".react-flow__pane").click()
    page.keyboard.press("?")
    expect(page.get_by_test_id("shortcut-help")).to_contain_text("Undo")
    page.shot("shortcuts")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("shortcut-help")).to_have_count(0)
    assert page.js_errors == []


def test_expression_editor_completes_from_the_last_run(walk, live_server, e2e_user):
    page = walk
    page.add_init_script("""window.__csp = []; document.addEventListener(
        'securitypolicyviolation', e => window.__csp.push(e.violatedDirective));""")
    workflow = make_workflow(owner=e2e_user, name="Complete", definition=simple_definition(
        {"id": "shape", "type": "transform", "config": {"expression": "input"}},
        {"id": "check", "type": "condition", "config": {"expression": "True"}}))
    run_now(workflow, input={"customer": {"name": "Ada", "city": "London"}, "total": 3})
    sign_in(page, live_server.url, e2e_user.email)
    page.goto(editor_url(live_server, workflow))
    select_node(page, "check")
    field = page.locator('[data-field="expression"] .cm-content')
    expect(field).to_have_text("True")
    field.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    # The input of `check` was the output of `shape` in the last run: the trigger's payload.
    page.keyboard.type("input.cus")
    options = page.locator(".cm-tooltip-autocomplete li")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("customer")
    options.first.click()
    expect(field).to_have_text("input.customer")
    page.keyboard.type(".")
    expect(options).to_have_text([re.compile("^city"), re.compile("^name")])
    page.shot("completion")
    options.nth(1).click()
    expect(field).to_have_text("input.customer.name")
    page.keyboard.type(" == 'Ada' and nodes.")
    expect(options).to_have_text(
        [re.compile("^check"), re.compile("^shape"), re.compile("^trigger")])
    page.keyboard.press("Escape")
    expect(field).to_have_text("input.customer.name == 'Ada' and nodes.")

    # What was typed is the node's config (and undo inside the editor's store takes it back).
    page.keyboard.type("shape.total > 1")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("version")).to_have_text("v2")
    workflow.refresh_from_db()
    check = next(n for n in workflow.definition["nodes"] if n["id"] == "check")
    assert check["config"]["expression"] == "input.customer.name == 'Ada' and nodes.shape.total > 1"
    assert page.evaluate("window.__csp") == []
    assert page.js_errors == []
