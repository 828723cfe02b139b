"""Webhooks that take what the world sends: methods, body kinds (JSON, form, multipart with
files, text, XML) as the webhook node allows them, the payload shapes, custom paths and the
editor's test events; and the abuse of each (oversize, bombs, bad types, collisions)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from runs.files import file_storage
from runs.models import Run, RunFile
from tests.factories import UserFactory, make_workflow, run_now, simple_definition
from workflows.models import Workflow

pytestmark = pytest.mark.django_db


def hook_workflow(owner=None, **config) -> Workflow:
    definition = simple_definition()
    definition["nodes"][0]["config"] = config
    return make_workflow(owner=owner, definition=definition)


def last_input(workflow):
    return Run.objects.filter(workflow=workflow).latest("id").input


@pytest.fixture
def client():
    return Client()


def call(client, method, url, body=b"", content_type="application/json", **extra):
    return getattr(client, method.lower())(url, body, content_type=content_type, **extra)


# -- methods ------------------------------------------------------------------------------------

def test_by_default_only_post_with_json(client):
    workflow = hook_workflow()
    url = f"/api/webhook/{workflow.pk}?wait=false"
    assert client.post(url, b'{"a": 1}', content_type="application/json").status_code == 202
    assert last_input(workflow) == {"a": 1}  # today's shape, unchanged
    refused = client.get(url)
    assert refused.status_code == 405
    assert refused.json()["code"] == "method_not_allowed"
    assert refused["Allow"] == "POST"
    assert client.post(url, b"a=1", content_type="application/x-www-form-urlencoded"
                       ).json()["code"] == "unsupported_media_type"
    assert client.post(url, CONTENT_TYPE="text/plain").status_code == 415  # even empty
    assert client.generic("POST", url).status_code == 202  # no body, no type: {}
    assert last_input(workflow) == {}


def test_get_gives_the_query(client):
    workflow = hook_workflow(methods=["GET", "POST"])
    response = client.get(f"/api/webhook/{workflow.pk}?wait=false&q=shoes&tag=a&tag=b")
    assert response.status_code == 202, response.content
    assert last_input(workflow) == {"q": "shoes", "tag": ["a", "b"]}
    assert client.head(f"/api/webhook/{workflow.pk}").status_code == 405


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_other_methods_when_allowed(client, method):
    workflow = hook_workflow(methods=[method])
    url = f"/api/webhook/{workflow.pk}?wait=false"
    assert call(client, method, url, b'{"id": 7}').status_code == 202
    assert last_input(workflow) == {"id": 7}
    assert call(client, "POST", url, b"{}").status_code == 405


def test_an_unknown_workflow_answers_alike_for_every_method(client):
    for method in ("GET", "PUT", "DELETE"):
        response = call(client, method, "/api/webhook/987654")
        assert response.status_code == 404
        assert response.json()["code"] == "workflow_not_found"


def test_a_method_is_checked_after_the_token(client):
    workflow = hook_workflow(methods=["POST"])
    Workflow.objects.filter(pk=workflow.pk).update(webhook_auth="token", webhook_secret="s3")
    # without the token, a GET is the same 404 as an unknown id (nothing to probe)
    assert client.get(f"/api/webhook/{workflow.pk}").status_code == 404


# -- bodies -------------------------------------------------------------------------------------

def test_form_bodies(client):
    workflow = hook_workflow(accept=["form"])
    response = client.post(f"/api/webhook/{workflow.pk}?wait=false", b"name=Ada&x=1&x=2",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 202, response.content
    assert last_input(workflow) == {"name": "Ada", "x": ["1", "2"]}


def test_a_form_with_too_many_fields_is_400(client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    workflow = hook_workflow(accept=["form"])
    response = client.post(f"/api/webhook/{workflow.pk}", b"a=1&b=2&c=3&d=4",
                           content_type="application/x-www-form-urlencoded")
    assert (response.status_code, response.json()["code"]) == (400, "too_many_fields")
    assert not Run.objects.filter(workflow=workflow).exists()


def test_a_workflow_path_is_checked_by_the_model_too():
    from django.core.exceptions import ValidationError

    workflow = hook_workflow()
    workflow.webhook_path = "admin"
    with pytest.raises(ValidationError, match="reserved"):
        workflow.full_clean()


def test_text_bodies(client):
    workflow = hook_workflow(accept=["text"])
    url = f"/api/webhook/{workflow.pk}?wait=false"
    assert client.post(url, "h\u00e9llo".encode(), content_type="text/plain").status_code == 202
    assert last_input(workflow) == "h\u00e9llo"
    latin = client.post(url, "h\u00e9",
                        content_type="text/plain; charset=iso-8859-1")
    assert latin.status_code == 202
    assert last_input(workflow) == "h\u00e9"
    bad = client.post(url, b"\xff\xfe", content_type="text/plain")
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_text")
    odd = client.generic("POST", url, b"x", content_type="text/plain; charset=klingon")
    assert (odd.status_code, odd.json()["code"]) == (415, "unsupported_media_type")


def test_xml_bodies_become_a_dict(client):
    workflow = hook_workflow(accept=["xml"])
    body = b'<order id="7"><item>a</item><item>b</item><note>hi</note></order>'
    response = client.post(f"/api/webhook/{workflow.pk}?wait=false", body,
                           content_type="application/xml")
    assert response.status_code == 202, response.content
    assert last_input(workflow) == {"order": {"@id": "7", "item": ["a", "b"], "note": "hi"}}


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"""


@pytest.mark.parametrize(("body", "code"), [
    (BILLION_LAUGHS, "xml_forbidden"), (XXE, "xml_forbidden"),
    (b"<a><b></a>", "invalid_xml"), (b"not xml", "invalid_xml"),
    (b"<a>" * 200 + b"</a>" * 200, "json_too_deep"),
])
def test_xml_abuse_is_refused(client, body, code):
    workflow = hook_workflow(accept=["xml"])
    response = client.post(f"/api/webhook/{workflow.pk}", body, content_type="text/xml")
    assert (response.status_code, response.json()["code"]) == (400, code), response.content
    assert "passwd" not in response.json()["message"] or code != "xml_forbidden"
    assert not Run.objects.filter(workflow=workflow).exists()


def test_a_content_type_nobody_takes(client):
    workflow = hook_workflow(accept=["json", "form", "multipart", "text", "xml"])
    response = client.post(f"/api/webhook/{workflow.pk}", b"x",
                           content_type="application/x-evil")
    assert response.status_code == 415
    assert "application/json" in response.json()["message"]


# -- multipart and files ------------------------------------------------------------------------

def upload(client, workflow, data, url=None):
    return client.post(url or f"/api/webhook/{workflow.pk}?wait=false", data)


def test_multipart_files_become_file_refs(client):
    workflow = hook_workflow(accept=["multipart"])
    response = upload(client, workflow, {
        "title": "scan",
        "doc": SimpleUploadedFile("../../etc/passwd.pdf", b"%PDF-1.7 data", "application/pdf"),
        "pics": [SimpleUploadedFile("a.png", b"\x89PNG1", "image/png"),
                 SimpleUploadedFile("b.png", b"\x89PNG2", "image/png")],
    })
    assert response.status_code == 202, response.content
    run = Run.objects.get(pk=response.json()["run"])
    doc = run.input["doc"]
    assert run.input["title"] == "scan"
    assert doc["name"] == "passwd.pdf"  # no path from the caller's file name
    assert (doc["size"], doc["content_type"]) == (13, "application/pdf")
    assert [p["name"] for p in run.input["pics"]] == ["a.png", "b.png"]
    assert RunFile.objects.filter(run=run).count() == 3
    with file_storage().open(doc["key"]) as handle:
        assert handle.read() == b"%PDF-1.7 data"


def test_request_shape(client):
    workflow = hook_workflow(accept=["multipart", "json"], methods=["POST"], payload="request")
    response = client.post(f"/api/webhook/{workflow.pk}?wait=false&src=form",
                           {"a": "1", "f": SimpleUploadedFile("f.txt", b"hi", "text/plain")},
                           headers={"X-Custom": "yes", "Authorization": "Bearer hidden",
                                    "Cookie": "sid=hidden"})
    assert response.status_code == 202, response.content
    got = last_input(workflow)
    assert got["method"] == "POST"
    assert got["query"] == {"src": "form"}
    assert got["body"] == {"a": "1"}
    assert got["headers"]["x-custom"] == "yes"
    assert "authorization" not in got["headers"]
    assert "cookie" not in got["headers"]
    assert [f["name"] for f in got["files"]["f"]] == ["f.txt"]


def test_an_oversized_upload_is_413_and_stores_nothing(client, settings):
    settings.WFAIB = {**settings.WFAIB, "FILE_MAX_SIZE": 100}
    workflow = hook_workflow(accept=["multipart"])
    response = upload(client, workflow, {
        "big": SimpleUploadedFile("big.bin", b"x" * 101, "application/octet-stream")})
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert response.json()["message"].startswith("big:")
    assert not Run.objects.filter(workflow=workflow).exists()
    assert not RunFile.objects.exists()


def test_a_multipart_body_over_its_limit_is_413(client, settings):
    settings.WFAIB = {**settings.WFAIB, "WEBHOOK_MAX_UPLOAD": 500}
    workflow = hook_workflow(accept=["multipart"])
    response = upload(client, workflow, {"f": SimpleUploadedFile("f", b"x" * 600)})
    assert (response.status_code, response.json()["code"]) == (413, "body_too_large")


def test_uploads_past_djangos_memory_limit_are_read(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    workflow = hook_workflow(accept=["multipart"])
    response = upload(client, workflow, {"f": SimpleUploadedFile("f.bin", b"y" * 5000)})
    assert response.status_code == 202, response.content
    assert last_input(workflow)["f"]["size"] == 5000


def test_a_broken_multipart_body_is_400(client):
    workflow = hook_workflow(accept=["multipart"])
    response = client.post(f"/api/webhook/{workflow.pk}", b"--x\r\ngarbage",
                           content_type="multipart/form-data")  # no boundary parameter
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_multipart"


def test_too_many_files_is_400(client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    workflow = hook_workflow(accept=["multipart"])
    response = upload(client, workflow, {"f": [SimpleUploadedFile(f"{i}", b"x")
                                               for i in range(3)]})
    assert (response.status_code, response.json()["code"]) == (400, "too_many_fields")


def test_a_replayed_upload_stores_nothing_new(client):
    workflow = hook_workflow(accept=["multipart"])
    data = {"f": SimpleUploadedFile("f.txt", b"x")}
    first = client.post(f"/api/webhook/{workflow.pk}?wait=false", data,
                        headers={"Idempotency-Key": "k1"})
    again = client.post(f"/api/webhook/{workflow.pk}?wait=false",
                        {"f": SimpleUploadedFile("f.txt", b"x")},
                        headers={"Idempotency-Key": "k1"})
    assert first.json()["run"] == again.json()["run"]
    assert again["Idempotent-Replayed"] == "true"
    assert RunFile.objects.count() == 1


# -- custom paths -------------------------------------------------------------------------------

def api_as(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_a_custom_path_reaches_the_workflow(client):
    workflow = hook_workflow()
    owner = workflow.owner
    response = api_as(owner).patch(f"/api/workflows/{workflow.pk}",
                                   {"webhook_path": "orders-in"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["webhook_path"] == "orders-in"
    hooked = client.post("/hook/orders-in?wait=false", b'{"n": 1}',
                         content_type="application/json")
    assert hooked.status_code == 202, hooked.content
    assert last_input(workflow) == {"n": 1}
    by_id = client.post(f"/hook/{workflow.pk}?wait=false", b"{}", content_type="application/json")
    assert by_id.status_code == 202
    unknown = client.post("/hook/nobody-here", b"{}", content_type="application/json")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "workflow_not_found")


@pytest.mark.parametrize("path", ["test", "api", "Orders", "-x", "x-", "a--b", "1abc", "a",
                                  "a/b", "../x", "x" * 65, "caf\u00e9"])
def test_bad_custom_paths_are_refused(path):
    workflow = hook_workflow()
    response = api_as(workflow.owner).patch(f"/api/workflows/{workflow.pk}",
                                            {"webhook_path": path}, format="json")
    assert response.status_code == 400, (path, response.content)
    assert "webhook_path" in str(response.json())  # the error names the field


def test_custom_paths_are_unique():
    first, second = hook_workflow(), hook_workflow()
    assert api_as(first.owner).patch(f"/api/workflows/{first.pk}", {"webhook_path": "shared"},
                                     format="json").status_code == 200
    clash = api_as(second.owner).patch(f"/api/workflows/{second.pk}",
                                       {"webhook_path": "shared"}, format="json")
    assert clash.status_code == 400
    assert "webhook_path" in str(clash.json())
    assert Workflow.objects.get(pk=second.pk).webhook_path is None
    # an empty path removes it
    assert api_as(first.owner).patch(f"/api/workflows/{first.pk}", {"webhook_path": ""},
                                     format="json").json()["webhook_path"] is None


# -- test events --------------------------------------------------------------------------------

def test_listen_then_capture_a_test_event(client):
    workflow = hook_workflow(accept=["json", "multipart"], methods=["POST", "GET"])
    api = api_as(workflow.owner)
    assert api.get(f"/api/workflows/{workflow.pk}/test-event").json()["status"] == "idle"
    not_yet = client.post(f"/hook/test/{workflow.pk}", b"{}", content_type="application/json")
    assert (not_yet.status_code, not_yet.json()["code"]) == (404, "not_listening")
    assert api.post(f"/api/workflows/{workflow.pk}/listen").json()["status"] == "listening"
    captured = client.post(f"/hook/test/{workflow.pk}?x=1",
                           {"f": SimpleUploadedFile("f.txt", b"abc", "text/plain"), "a": "b"})
    assert captured.status_code == 200, captured.content
    state = api.get(f"/api/workflows/{workflow.pk}/test-event").json()
    assert state["status"] == "captured"
    assert state["event"]["method"] == "POST"
    assert state["event"]["query"] == {"x": "1"}
    assert state["event"]["input"]["a"] == "b"
    assert state["event"]["input"]["f"] == {"name": "f.txt", "size": 3,
                                            "content_type": "text/plain", "key": ""}
    assert not Run.objects.filter(workflow=workflow).exists()  # a test event starts no run
    assert not RunFile.objects.exists()
    # captured once: the next call is not kept
    assert client.post(f"/hook/test/{workflow.pk}", b"{}",
                       content_type="application/json").status_code == 404


def test_the_test_url_still_checks_the_token_and_the_method(client):
    workflow = hook_workflow()
    Workflow.objects.filter(pk=workflow.pk).update(webhook_auth="token", webhook_secret="s3")
    api_as(workflow.owner).post(f"/api/workflows/{workflow.pk}/listen")
    assert client.post(f"/hook/test/{workflow.pk}", b"{}",
                       content_type="application/json").status_code == 404
    assert client.get(f"/hook/test/{workflow.pk}", headers={"X-Webhook-Token": "s3"}
                      ).status_code == 405
    ok = client.post(f"/hook/test/{workflow.pk}", b"{}", content_type="application/json",
                     headers={"X-Webhook-Token": "s3"})
    assert ok.status_code == 200


def test_others_cannot_listen_or_read_test_events():
    workflow = hook_workflow()
    stranger = api_as(UserFactory())
    assert stranger.post(f"/api/workflows/{workflow.pk}/listen").status_code == 404
    assert stranger.get(f"/api/workflows/{workflow.pk}/test-event").status_code == 404


def test_a_node_opens_a_webhook_upload():
    """End to end: the uploaded file is a run file the run's nodes can read."""
    from runs.engine.context import EngineContext
    from runs.engine.files import RunFileAccess

    workflow = hook_workflow(accept=["multipart"])
    response = Client().post(f"/api/webhook/{workflow.pk}?wait=false",
                             {"f": SimpleUploadedFile("f.txt", b"payload", "text/plain")})
    run = Run.objects.get(pk=response.json()["run"])
    ctx = EngineContext(node_id="n", node_type="t", names={},
                        files=RunFileAccess(lambda: run.pk, workflow.project_id))
    assert ctx.open_file(run.input["f"]) == b"payload"
    assert run_now(workflow, run.input).status == Run.Status.SUCCEEDED


def test_a_path_taken_in_a_race_is_a_clear_error():
    from workflows.services import WebhookPathTaken, workflow_update

    first, second = hook_workflow(), hook_workflow()
    workflow_update(workflow=first, user=first.owner, webhook_path="raced")
    with pytest.raises(WebhookPathTaken, match="webhook_path"):  # past the serializer's check
        workflow_update(workflow=second, user=second.owner, webhook_path="raced")
    assert WebhookPathTaken.code == "webhook_path_taken"
