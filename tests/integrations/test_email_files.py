"""Files between nodes reach the email node: an upload a webhook received is mailed as an
attachment through `ctx.open_file` (the run file store), against a real SMTP server."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from runs.models import Run
from tests.factories import UserFactory, make_workflow, simple_definition
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
