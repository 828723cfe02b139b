"""Files between nodes reach the email node: an upload a webhook received is mailed as an
attachment through `ctx.open_file` (the run file store), against a real SMTP server."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from runs.models import Run, RunFile
from tests.factories import UserFactory, make_workflow, run_now, simple_definition
from tests.integrations.mailservers import start_smtp
from workflows.services import credential_create

pytestmark = [pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
              pytest.mark.django_db(transaction=True)]


@pytest.fixture
def smtp():
    server = start_smtp("none", username="mailer", password="smtp-Secr3t-pw")
    yield server
    server.stop()


def test_a_webhook_upload_is_mailed_as_an_attachment(smtp):
    owner = UserFactory()
    credential_create(owner=owner, name="mailer", **smtp.credential())
    definition = simple_definition({"id": "mail", "type": "email", "config": {
        "credential": "mailer", "to": "ada@example.com", "subject": "Your scan",
        "text": "Attached.", "attachments": [
            {field: f"{{{{ input.scan.{field} }}}}"
             for field in ("name", "size", "content_type", "key")}]}})
    definition["nodes"][0]["config"] = {"accept": ["multipart"]}
    workflow = make_workflow(owner=owner, definition=definition)
    response = Client().post(f"/api/webhook/{workflow.pk}", {
        "scan": SimpleUploadedFile("scan.pdf", b"%PDF-1.7 the scan", "application/pdf")})
    assert response.status_code == 200, response.content
    run = Run.objects.get(pk=response.json()["run"])
    assert run.status == "succeeded", run.error
    [got] = smtp.received
    [attachment] = list(got.message.iter_attachments())
    assert attachment.get_filename() == "scan.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == b"%PDF-1.7 the scan"


def test_a_stored_run_file_is_attached_through_a_whole_expression(smtp, tmp_path, settings):
    """The storage node reads a report into the run file store; the email node's attachments
    is the one expression "{{ nodes.report.file }}" (accepted when saved, a file reference
    when the run renders it), and the bytes read back through ctx.open_file reach the server."""
    store = tmp_path / "store"
    store.mkdir()
    (store / "report.csv").write_bytes(b"month,total\n2026-11,42\n")
    settings.WFAIB = {**settings.WFAIB, "STORAGE_ROOT": str(store)}
    owner = UserFactory()
    credential_create(owner=owner, name="mailer", **smtp.credential())
    workflow = make_workflow(owner=owner, definition=simple_definition(
        {"id": "report", "type": "storage", "config": {"operation": "read",
                                                        "key": "report.csv"}},
        {"id": "mail", "type": "email", "config": {
            "credential": "mailer", "to": "ada@example.com", "subject": "Monthly report",
            "text": "Attached.", "attachments": "{{ nodes.report.file }}"}}))
    run = run_now(workflow)
    assert run.status == "succeeded", run.error
    stored = RunFile.objects.get(run=run)
    assert stored.name == "report.csv"
    [got] = smtp.received
    [attachment] = list(got.message.iter_attachments())
    assert attachment.get_filename() == "report.csv"
    assert attachment.get_content_type() == "text/csv"
    assert attachment.get_content() == "month,total\n2026-11,42\n"


@pytest.mark.parametrize("key", ["999999/" + "0" * 32, "../../etc/passwd"])
def test_a_reference_to_no_file_of_the_project_is_refused(smtp, key):
    """A made-up or malformed key is no file of this run's project: the node fails naming
    the attachment, and nothing is sent."""
    owner = UserFactory()
    credential_create(owner=owner, name="mailer", **smtp.credential())
    workflow = make_workflow(owner=owner, definition=simple_definition(
        {"id": "mail", "type": "email", "config": {
            "credential": "mailer", "to": "ada@example.com", "subject": "s",
            "attachments": "{{ input.file }}"}}))
    run = run_now(workflow, input={"file": {"name": "x.pdf", "size": 3,
                                            "content_type": "application/pdf",
                                            "key": key}})
    assert run.status == "failed"
    assert run.error_node_id == "mail"
    assert "attachment 'x.pdf'" in run.error
    assert smtp.received == []
