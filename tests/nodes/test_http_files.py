"""The http node keeps a binary response as a run file (a file reference in its output), and
text, JSON and XML as before."""

import pytest

from runs.files import file_open
from runs.models import Run, RunFile
from tests.factories import make_workflow, run_now, simple_definition

pytestmark = pytest.mark.django_db(transaction=True)  # the node saves from its own thread

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def fetch(url):
    return run_now(make_workflow(definition=simple_definition(
        {"id": "call", "type": "http", "config": {"url": url}})))


def test_a_binary_response_becomes_a_file_ref(api_server):
    api_server.route("GET", "/logo.png", lambda r: (200, {"Content-Type": "image/png"}, PNG))
    run = fetch(api_server.url + "/logo.png")
    assert run.status == Run.Status.SUCCEEDED, run.error
    ref = run.result["body"]
    assert ref["name"] == "logo.png"
    assert (ref["size"], ref["content_type"]) == (len(PNG), "image/png")
    assert file_open(ref, project_id=run.workflow.project_id) == PNG
    assert RunFile.objects.get(key=ref["key"]).run_id == run.pk


def test_the_server_names_the_file(api_server):
    api_server.route("GET", "/dl", lambda r: (200, {
        "Content-Type": "application/pdf",
        "Content-Disposition": 'attachment; filename="../../report 1.pdf"'}, b"%PDF-1.7"))
    run = fetch(api_server.url + "/dl")
    assert run.result["body"]["name"] == "report 1.pdf"  # no path from the server either
    assert run.result["body"]["content_type"] == "application/pdf"


@pytest.mark.parametrize(("content_type", "body"), [
    ("text/csv", "a,b\n1,2"), ("application/xml", "<a/>"), ("image/svg+xml", "<svg/>"),
    ("application/problem+json", '{"x": 1}'),
])
def test_text_stays_text(api_server, content_type, body):
    api_server.route("GET", "/t", lambda r: (200, {"Content-Type": content_type}, body.encode()))
    run = fetch(api_server.url + "/t")
    assert not RunFile.objects.exists()
    assert isinstance(run.result["body"], str | dict)


def test_a_binary_response_over_the_limit_fails_the_node(api_server, settings):
    settings.WFAIB = {**settings.WFAIB, "FILE_MAX_SIZE": 10}
    api_server.route("GET", "/big", lambda r: (200, {"Content-Type": "application/zip"},
                                               b"PK" * 100))
    run = fetch(api_server.url + "/big")
    assert run.status == Run.Status.FAILED
    assert run.error_node_id == "call"
    assert "over the limit of 10 bytes" in run.error
