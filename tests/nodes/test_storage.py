"""The storage node against a real local folder and a real S3-compatible server on 127.0.0.1
(moto's standalone server, started here): read gives a run file, write takes a file reference,
text or base64, list and delete; keys and roots that would leave the store are refused."""

from __future__ import annotations

import base64
import os

import boto3
import pytest
from moto.server import ThreadedMotoServer

from runs.files import file_open, file_save
from runs.models import Run
from tests.factories import UserFactory, make_workflow, run_now, simple_definition
from tests.servers import free_port
from workflows.services import credential_create

# The node works in its own thread (not pure), which writes run files on its own connection.
pytestmark = pytest.mark.django_db(transaction=True)

S3_SECRET = "moto-secret-key-planted-123"


@pytest.fixture
def root(tmp_path, settings):
    folder = tmp_path / "store"
    folder.mkdir()
    settings.WFAIB = {**settings.WFAIB, "STORAGE_ROOT": str(folder)}
    return folder


@pytest.fixture(scope="module")
def s3_server():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_server):
    name = f"b{os.urandom(4).hex()}"
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1",
                          aws_access_key_id="AKIDTEST", aws_secret_access_key=S3_SECRET)
    client.create_bucket(Bucket=name)
    return client, name


def storage_run(owner=None, **config):
    workflow = make_workflow(owner=owner, definition=simple_definition(
        {"id": "store", "type": "storage", "config": config}))
    return run_now(workflow)


def ok(run: Run) -> dict:
    assert run.status == Run.Status.SUCCEEDED, run.error
    return run.result


def failed(run: Run) -> str:
    assert run.status == Run.Status.FAILED
    assert run.error_node_id == "store"
    return run.error


# -- local --------------------------------------------------------------------------------------

def test_local_write_read_list_delete(root):
    assert ok(storage_run(operation="write", key="in/a.txt", content="hello")) == {
        "key": "in/a.txt", "size": 5, "content_type": "text/plain; charset=utf-8"}
    assert (root / "in" / "a.txt").read_bytes() == b"hello"
    ok(storage_run(operation="write", key="in/b.bin",
                   content_base64=base64.b64encode(b"\x00\x01").decode()))
    run = storage_run(operation="read", key="in/a.txt")
    ref = ok(run)["file"]
    assert ref["name"] == "a.txt"
    assert ref["content_type"] == "text/plain"
    assert file_open(ref, project_id=run.workflow.project_id) == b"hello"
    listed = ok(storage_run(operation="list", key="in"))
    assert [i["key"] for i in listed["items"]] == ["in/a.txt", "in/b.bin"]
    assert listed["truncated"] is False
    assert ok(storage_run(operation="list", key="", limit=1))["truncated"] is True
    assert ok(storage_run(operation="delete", key="in/a.txt"))["deleted"] is True
    assert ok(storage_run(operation="delete", key="in/a.txt"))["deleted"] is False
    assert not (root / "in" / "a.txt").exists()


def test_local_write_from_a_file_ref(root):
    source = run_now(make_workflow())
    ref = file_save(run_id=source.pk, name="up.pdf", data=b"%PDF", content_type="application/pdf")
    workflow = make_workflow(owner=source.workflow.owner, project=source.workflow.project,
                             definition=simple_definition({"id": "store", "type": "storage",
                                                           "config": {"operation": "write",
                                                                      "key": "docs/up.pdf",
                                                                      "file": "{{ input }}"}}))
    run = run_now(workflow, ref)
    assert ok(run)["content_type"] == "application/pdf"
    assert (root / "docs" / "up.pdf").read_bytes() == b"%PDF"


def test_a_file_ref_of_another_project_is_refused(root):
    source = run_now(make_workflow())
    ref = file_save(run_id=source.pk, name="x", data=b"secret", content_type="text/plain")
    workflow = make_workflow(definition=simple_definition(  # another owner and project
        {"id": "store", "type": "storage",
         "config": {"operation": "write", "key": "x", "file": "{{ input }}"}}))
    assert "not available" in failed(run_now(workflow, ref))
    assert not (root / "x").exists()


@pytest.mark.parametrize("key", ["../escape.txt", "a/../../escape.txt", "/etc/passwd",
                                 "a\\..\\b", "a/./b", "C:/x", "a\x01b"])
def test_local_keys_that_leave_the_root_are_refused(root, key):
    error = failed(storage_run(operation="write", key=key, content="x"))
    assert "refused" in error
    assert not (root.parent / "escape.txt").exists()


@pytest.mark.parametrize("key", ["a\x00b", "x" * 1025, "", "..", "a/../b"])
def test_check_key_refuses_what_a_definition_cannot_even_hold(key):
    # NUL cannot be stored in PostgreSQL's JSON, so it is checked here directly
    from nodes.base import NodeError
    from runs.engine.object_stores import check_key

    with pytest.raises(NodeError, match="refused|empty|longer"):
        check_key(key)


def test_a_symlink_out_of_the_root_is_refused(root, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("top secret")
    (root / "link").symlink_to(outside)
    (root / "file-link").symlink_to(outside / "secret.txt")
    assert "outside the storage root" in failed(storage_run(operation="read",
                                                            key="link/secret.txt"))
    assert "outside the storage root" in failed(storage_run(operation="write",
                                                            key="link/new.txt", content="x"))
    assert "outside the storage root" in failed(storage_run(operation="read", key="file-link"))
    assert not (outside / "new.txt").exists()
    assert ok(storage_run(operation="list", key=""))["items"] == []  # links are not listed


def test_a_per_node_root_stays_under_the_operators_base(root):
    ok(storage_run(operation="write", root="team-a", key="x.txt", content="a"))
    assert (root / "team-a" / "x.txt").read_text() == "a"
    assert "refused" in failed(storage_run(operation="read", root="../", key="x.txt"))


def test_local_storage_is_off_without_a_root(settings):
    settings.WFAIB = {**settings.WFAIB, "STORAGE_ROOT": ""}
    assert "WFAIB_STORAGE_ROOT" in failed(storage_run(operation="read", key="a"))


def test_missing_files_and_bad_base64(root):
    assert "no file 'nope.txt'" in failed(storage_run(operation="read", key="nope.txt"))
    assert "not valid base64" in failed(storage_run(operation="write", key="a",
                                                    content_base64="***"))


def test_a_read_over_the_size_limit_fails(root, settings):
    (root / "big.bin").write_bytes(b"x" * 50)
    settings.WFAIB = {**settings.WFAIB, "FILE_MAX_SIZE": 10}
    assert "over the limit" in failed(storage_run(operation="read", key="big.bin"))


def test_config_is_checked_at_save():
    from workflows.validation import InvalidDefinition, ensure_valid

    for config in ({"operation": "write", "key": "a"},
                   {"operation": "write", "key": "a", "content": "x", "content_base64": "eA=="},
                   {"operation": "read"}, {"operation": "read", "key": "a", "content": "x"},
                   {"backend": "s3", "operation": "read", "key": "a"}):
        with pytest.raises(InvalidDefinition):
            ensure_valid(simple_definition({"id": "s", "type": "storage", "config": config}))


# -- S3 -----------------------------------------------------------------------------------------

def s3_credential(owner, endpoint, bucket_name, **extra):
    return credential_create(owner=owner, name=f"bucket-{bucket_name}", kind="s3", data={
        "endpoint_url": endpoint, "region": "us-east-1", "bucket": bucket_name,
        "access_key_id": "AKIDTEST", "secret_access_key": S3_SECRET, **extra})


def test_s3_write_read_list_delete(s3_server, bucket):
    client, name = bucket
    owner = UserFactory()
    credential = s3_credential(owner, s3_server, name)
    common = {"backend": "s3", "credential": credential.pk}
    ok(storage_run(owner, operation="write", key="r/one.txt", content="uno", **common))
    assert client.get_object(Bucket=name, Key="r/one.txt")["Body"].read() == b"uno"
    client.put_object(Bucket=name, Key="r/pic.png", Body=b"\x89PNG", ContentType="image/png")
    run = storage_run(owner, operation="read", key="r/pic.png", **common)
    ref = ok(run)["file"]
    assert (ref["name"], ref["content_type"], ref["size"]) == ("pic.png", "image/png", 4)
    assert file_open(ref, project_id=run.workflow.project_id) == b"\x89PNG"
    listed = ok(storage_run(owner, operation="list", key="r/", **common))
    assert [i["key"] for i in listed["items"]] == ["r/one.txt", "r/pic.png"]
    assert ok(storage_run(owner, operation="delete", key="r/one.txt", **common))["deleted"]
    assert not ok(storage_run(owner, operation="delete", key="r/one.txt", **common))["deleted"]


def test_s3_errors_are_clear_and_hold_no_secret(s3_server, bucket):
    _, name = bucket
    owner = UserFactory()
    credential = s3_credential(owner, s3_server, name)
    error = failed(storage_run(owner, backend="s3", credential=credential.pk,
                               operation="read", key="missing.txt"))
    assert f"no object 'missing.txt' in bucket '{name}'" in error
    nobucket = s3_credential(owner, s3_server, "no-such-bucket-here")
    error = failed(storage_run(owner, backend="s3", credential=nobucket.pk, operation="write",
                               key="a", content="x"))
    assert "no-such-bucket-here" in error
    assert S3_SECRET not in error
    assert "refused" in failed(storage_run(owner, backend="s3", credential=credential.pk,
                                           operation="read", key="../x"))


def test_s3_needs_an_s3_credential(s3_server, bucket):
    owner = UserFactory()
    smtp = credential_create(owner=owner, name="mail", kind="smtp", data={"password": "p"})
    error = failed(storage_run(owner, backend="s3", credential=smtp.pk, operation="read",
                               key="a"))
    assert "kind 'smtp'" in error


def test_an_s3_endpoint_on_a_private_address_is_refused(settings):
    settings.WFAIB = {**settings.WFAIB, "HTTP_ALLOW": []}
    owner = UserFactory()
    credential = s3_credential(owner, "http://127.0.0.1:9", "b")
    error = failed(storage_run(owner, backend="s3", credential=credential.pk, operation="read",
                               key="a"))
    assert "endpoint_url" in error
    assert "refused" in error


# -- end to end ---------------------------------------------------------------------------------

def test_a_form_upload_is_stored_by_the_storage_node(root, client):
    """What the issue asks for: receive a form upload, store the file (sync webhook, executed
    by the executor, answered with the result)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    definition = simple_definition({"id": "store", "type": "storage", "config": {
        "operation": "write", "key": "uploads/{{ input.doc.name }}",
        "file": "{{ input.doc }}"}})
    definition["nodes"][0]["config"] = {"accept": ["multipart"]}
    workflow = make_workflow(definition=definition)
    response = client.post(f"/api/webhook/{workflow.pk}", {
        "doc": SimpleUploadedFile("scan.pdf", b"%PDF-1.7 scan", "application/pdf")})
    assert response.status_code == 200, response.content
    assert response.json()["result"] == {"key": "uploads/scan.pdf", "size": 13,
                                         "content_type": "application/pdf"}
    assert (root / "uploads" / "scan.pdf").read_bytes() == b"%PDF-1.7 scan"
