"""The `email` node against a real SMTP server (aiosmtpd) that each test starts: plain with a
login, STARTTLS and implicit TLS with a self-signed certificate, a wrong password, a server
that is down, recipients the server refuses, and header injection."""

from __future__ import annotations

import base64

import pytest

from nodes.base import NodeError
from runs.engine.context import EngineContext
from tests.factories import UserFactory, make_workflow, run_now, simple_definition
from tests.integrations.helpers import run_node
from tests.integrations.mailservers import REFUSING_DOMAIN, self_signed, start_smtp
from tests.servers import free_port
from workflows.services import credential_create

PASSWORD = "smtp-Secr3t-pw"
# aiosmtpd warns on each connection of the plain server that takes a login without TLS,
# which is the case under test.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@pytest.fixture
def smtp():
    server = start_smtp("none", username="mailer", password=PASSWORD)
    yield server
    server.stop()


@pytest.fixture
def cert(tmp_path):
    return self_signed(tmp_path)


def send(server, credential=None, **config):
    config.setdefault("to", "ada@example.com")
    config.setdefault("subject", "Hello")
    return run_node("email", config, credential=credential or server.credential())


def refused(server, credential=None, **config) -> str:
    with pytest.raises(NodeError) as failure:
        send(server, credential, **config)
    return failure.value.message


@pytest.mark.django_db(transaction=True)
def test_a_run_sends_a_templated_message_with_html_and_an_attachment(smtp):
    owner = UserFactory()
    credential_create(owner=owner, name="mailer", **smtp.credential())
    workflow = make_workflow(owner=owner, definition=simple_definition({
        "id": "mail", "type": "email", "config": {
            "credential": "mailer",
            "to": "{{ input.to }}", "cc": ["Ops Team <ops@example.com>"],
            "bcc": "audit@example.com, {{ input.boss }}",
            "subject": "Report for {{ input.month }}",
            "text": "Hello {{ input.name }}, the total is {{ input.total }}.",
            "html": "<p>Hello <b>{{ input.name }}</b></p>",
            "attachments": [{"name": "report.csv", "content_type": "text/csv",
                             "content_base64": "{{ input.csv }}"}]}}))
    csv = base64.b64encode(b"month,total\nmarch,42\n").decode()
    run = run_now(workflow, input={"to": "Ada Lovelace <ada@example.com>", "boss": "b@x.org",
                                   "month": "March", "name": "Ada", "total": 42, "csv": csv})
    assert run.status == "succeeded", run.error
    assert run.result["accepted"] == ["ada@example.com", "ops@example.com",
                                      "audit@example.com", "b@x.org"]
    assert run.result["refused"] == {}
    [got] = smtp.received
    assert smtp.logins == ["mailer:True"]
    assert got.mail_from == "reports@wfaib.example"
    assert got.rcpt_tos == run.result["accepted"]
    message = got.message
    assert message["Message-ID"] == run.result["message_id"]
    assert message["Subject"] == "Report for March"
    assert message["To"] == "Ada Lovelace <ada@example.com>"
    assert message["Cc"] == "Ops Team <ops@example.com>"
    assert message["Bcc"] is None  # blind copies are not in the headers
    assert message.get_body(("plain",)).get_content().strip() == (
        "Hello Ada, the total is 42.")
    assert message.get_body(("html",)).get_content().strip() == "<p>Hello <b>Ada</b></p>"
    [attached] = list(message.iter_attachments())
    assert attached.get_filename() == "report.csv"
    assert attached.get_content_type() == "text/csv"
    assert attached.get_payload(decode=True) == b"month,total\nmarch,42\n"
    assert PASSWORD not in str(run.result)


def test_header_injection_is_refused(smtp):
    for field, value in (("subject", "Hi\r\nBcc: victim@evil.example"),
                         ("subject", "Hi\nX-Spam: yes"),
                         ("to", "ada@example.com\r\nBcc: victim@evil.example"),
                         ("cc", ["ok@example.com", "x@example.com\nBcc: v@evil.example"]),
                         ("from_address", "me@example.com\r\nBcc: v@evil.example"),
                         ("reply_to", "r@example.com\rBcc: v@evil.example")):
        message = refused(smtp, **{field: value})
        assert message == (f"{field} must be one line: CR, LF and NUL are refused (header "
                           f"injection)"), field
    bad_file = [{"name": "a.txt\r\nBcc: v@evil.example", "content_base64": ""}]
    assert "must be one line" in refused(smtp, attachments=bad_file)
    assert smtp.received == []


def test_bad_addresses_and_attachments_are_refused_by_name(smtp):
    assert refused(smtp, to="not an address") == (
        "to: 'not an address' is not a valid email address")
    assert refused(smtp, to="ada@example.com, @nope") == (
        "to: 'ada@example.com, @nope' is not a valid email address")
    assert refused(smtp, to="") == "to: no recipient"
    assert refused(smtp, attachments=[{"name": "x", "content_base64": "%%%"}]) == (
        "attachment 'x': content_base64 is not valid base64")
    missing_file = refused(smtp, attachments=[{"name": "x.pdf", "size": 3, "content_type":
                                               "application/pdf", "key": "runs/1/x"}])
    if not hasattr(EngineContext, "open_file"):  # until the file store is there
        assert missing_file.startswith("attachment 'x.pdf': file references cannot be read "
                                       "here")
    assert refused(smtp, attachments=[{"content_base64": ""}]).startswith(
        "attachments: each is a file reference")
    no_sender = smtp.credential(from_address="")
    assert refused(smtp, no_sender) == ("from_address: give one sender (here or in the smtp "
                                        "credential)")
    assert smtp.received == []


def test_a_wrong_password_an_unreachable_server_and_refused_recipients(smtp):
    wrong = smtp.credential(password="Wr0ng-pw")
    message = refused(smtp, wrong)
    assert message == f"SMTP login as 'mailer' was refused by 127.0.0.1:{smtp.port} (535)"
    down_port = free_port()
    down = refused(smtp, smtp.credential(port=down_port))
    assert down.startswith(f"cannot reach the SMTP server 127.0.0.1:{down_port}: ")
    some = send(smtp, to=f"ada@example.com, nobody@{REFUSING_DOMAIN}")
    assert some["accepted"] == ["ada@example.com"]
    assert some["refused"] == {f"nobody@{REFUSING_DOMAIN}": "550 5.1.1 no such user"}
    assert refused(smtp, to=f"nobody@{REFUSING_DOMAIN}") == (
        f"the SMTP server refused every recipient: nobody@{REFUSING_DOMAIN} (550)")


def test_starttls_with_a_verified_certificate_and_a_login(cert, monkeypatch):
    server = start_smtp("starttls", username="mailer", password=PASSWORD, cert=cert)
    try:
        untrusted = refused(server)
        assert untrusted.startswith(f"the TLS certificate of 127.0.0.1:{server.port} is not "
                                    f"trusted: ")
        # STARTTLS is required: a credential that says none cannot log in in the clear here.
        assert refused(server, server.credential(security="none")).startswith(
            "the SMTP server 127.0.0.1:")
        monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))  # trust our self-signed cert
        sent = send(server, text="over TLS")
        assert sent["accepted"] == ["ada@example.com"]
        assert server.received[-1].message.get_content().strip() == "over TLS"
        assert server.logins[-1] == "mailer:True"
    finally:
        server.stop()


def test_implicit_tls(cert, monkeypatch):
    server = start_smtp("ssl", cert=cert)
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
        assert send(server)["accepted"] == ["ada@example.com"]
        plain = refused(server, server.credential(security="starttls"), timeout=1)
        assert "127.0.0.1" in plain
    finally:
        server.stop()


def test_starttls_is_never_skipped_when_the_server_lacks_it(smtp):
    message = refused(smtp, smtp.credential(security="starttls"))
    assert message == (f"the SMTP server 127.0.0.1:{smtp.port} does not offer STARTTLS "
                       f"extension not supported by server. (security: starttls needs it)")
    assert smtp.received == []


def test_the_address_policy_applies(smtp, settings):
    settings.WFAIB = {**settings.WFAIB, "HTTP_ALLOW": []}
    assert refused(smtp) == (f"127.0.0.1:{smtp.port}: refused: 127.0.0.1 is a loopback "
                             f"address; allow it with WFAIB_HTTP_ALLOW")


@pytest.mark.django_db
def test_a_failure_names_the_node_and_never_the_password(smtp):
    owner = UserFactory()
    credential_create(owner=owner, name="mailer", **smtp.credential(password=PASSWORD + "x"))
    credential_create(owner=owner, name="db", kind="database", data={"url": "sqlite:///x"})

    def run_with(credential):
        return run_now(make_workflow(owner=owner, definition=simple_definition(
            {"id": "mail", "type": "email",
             "config": {"credential": credential, "to": "a@example.com", "subject": "s"}})))

    wrong = run_with("mailer")
    assert wrong.error == (f"node 'mail' (email) failed: SMTP login as 'mailer' was refused "
                           f"by 127.0.0.1:{smtp.port} (535)")
    assert PASSWORD not in wrong.error
    assert run_with("db").error == ("node 'mail' (email) failed: credential 'db' is of kind "
                                    "'database'; this node needs one of: smtp")
