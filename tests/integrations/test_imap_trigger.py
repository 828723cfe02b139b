"""The `imap` trigger against a real Dovecot server the session starts: one run per new
message, each once (a second poll, a restarted poller, two pollers), the payload a run gets,
\\Seen flags, backfill, a recreated mailbox, and failures named without the password."""

from __future__ import annotations

import uuid
from email.message import EmailMessage

import pytest
from django.core.management import call_command

from runs.dispatch import wait_for_run
from runs.engine.executor import execute_run
from runs.files import file_open
from runs.imap_trigger import MailPoller
from runs.models import MailboxCursor, Run, RunFile
from runs.scheduler import Ticker
from tests.factories import UserFactory, make_workflow
from tests.servers import free_port
from workflows.models import Credential
from workflows.services import credential_create, workflow_update
from workflows.validation import validate_definition


def message(subject: str, *, html: str | None = None, attachment: bytes | None = None,
            more: tuple[tuple[str, bytes], ...] = ()) -> bytes:
    mail = EmailMessage()
    mail["From"] = "Ada Lovelace <ada@example.com>"
    mail["To"] = "support@wfaib.example"
    mail["Cc"] = "ops@wfaib.example"
    mail["Subject"] = subject
    mail["Date"] = "Mon, 30 Nov 2026 10:00:00 +0000"
    mail["Message-ID"] = f"<{uuid.uuid4().hex}@example.com>"
    mail.set_content(f"Body of {subject}\n")
    if html:
        mail.add_alternative(html, subtype="html")
    if attachment is not None:
        mail.add_attachment(attachment, maintype="text", subtype="csv", filename="data.csv")
    for name, data in more:
        mail.add_attachment(data, maintype="application", subtype="octet-stream",
                            filename=name)
    return mail.as_bytes()


def new_folder(dovecot) -> str:
    name = f"T{uuid.uuid4().hex[:8]}"
    client = dovecot.client()
    try:
        assert client.create(name)[0] == "OK"
    finally:
        client.logout()
    return name


def imap_workflow(owner, **config):
    definition = {"name": "mail", "nodes": [
        {"id": "mail", "type": "imap", "config": {"credential": "inbox", **config}},
        {"id": "shape", "type": "transform", "config": {"mapping": {
            "subject": "input.subject", "from": "input['from']", "uid": "input.uid"}}}],
        "edges": [{"from": "mail", "to": "shape"}]}
    return make_workflow(owner=owner, definition=definition)


def subjects(workflow) -> list[str]:
    return [r.input["subject"] for r in Run.objects.filter(workflow=workflow).order_by("id")]


@pytest.fixture
def inbox(dovecot, db):
    """An owner with an `inbox` credential for a folder of its own."""
    owner = UserFactory()
    folder = new_folder(dovecot)
    credential_create(owner=owner, name="inbox", kind="imap",
                      data=dovecot.credential(mailbox=folder))
    return owner, folder


def test_one_run_per_new_message_and_none_twice(dovecot, inbox,
                                                django_capture_on_commit_callbacks):
    owner, folder = inbox
    dovecot.deliver(message("before the trigger"), folder)
    workflow = imap_workflow(owner, mark_seen=True)
    with django_capture_on_commit_callbacks():  # runs stay queued: this test is about starting
        poller = MailPoller()
        [first] = poller.poll_all()
        assert (first.runs, first.error) == ([], None)  # starts at the mailbox's end
        dovecot.deliver(message("Invoice 1", html="<p>Invoice <b>1</b></p>",
                                attachment=b"a,b\n1,2\n"), folder)
        dovecot.deliver(message("Invoice 2"), folder)
        assert len(poller.poll_all()[0].runs) == 2
        assert poller.poll_all()[0].runs == []  # polled again: nothing new
        assert MailPoller().poll_all()[0].runs == []  # a restarted poller neither
        dovecot.deliver(message("Invoice 3"), folder)
        assert len(MailPoller().poll_all()[0].runs) == 1
    assert subjects(workflow) == ["Invoice 1", "Invoice 2", "Invoice 3"]
    run = Run.objects.filter(workflow=workflow).order_by("id").first()
    assert run.trigger == Run.Trigger.IMAP
    payload = run.input
    assert payload["from"] == "ada@example.com"
    assert payload["to"] == ["support@wfaib.example"]
    assert payload["cc"] == ["ops@wfaib.example"]
    assert payload["text"].strip() == "Body of Invoice 1"
    assert payload["html"].strip() == "<p>Invoice <b>1</b></p>"
    [attachment] = payload["attachments"]
    assert {k: attachment[k] for k in ("name", "size", "content_type")} == {
        "name": "data.csv", "size": 8, "content_type": "text/csv"}
    assert payload["attachments_skipped"] == []
    assert payload["date"] == "2026-11-30T10:00:00+00:00"
    assert payload["message_id"].endswith("@example.com>")
    assert payload["mailbox"] == folder
    assert payload["node"] == "mail"
    cursor = MailboxCursor.objects.get(workflow=workflow, node_id="mail")
    assert cursor.last_uid == payload["uid"] + 2
    assert payload["uidvalidity"] == cursor.uidvalidity
    flags = dovecot.flags(folder)
    assert "\\Seen" not in flags[1]  # before the trigger: untouched
    assert all("\\Seen" in flags[uid] for uid in (2, 3, 4))
    # The run itself goes through the trigger node to the next one.
    status = execute_run(run.pk)
    run.refresh_from_db()
    assert status == Run.Status.SUCCEEDED, run.error
    assert run.result == {"subject": "Invoice 1", "from": "ada@example.com",
                          "uid": payload["uid"]}


def test_attachments_become_run_files_within_the_size_limit(dovecot, transactional_db, tmp_path,
                                                            settings):
    """A message's attachments are stored as its run's files: the run input holds file
    references a later node opens (here a storage write copies one to a folder); one over
    WFAIB_FILE_MAX_SIZE is listed as skipped, not stored."""
    store = tmp_path / "store"
    store.mkdir()
    settings.WFAIB = {**settings.WFAIB, "FILE_MAX_SIZE": 1000, "STORAGE_ROOT": str(store)}
    owner = UserFactory()
    folder = new_folder(dovecot)
    credential_create(owner=owner, name="inbox", kind="imap",
                      data=dovecot.credential(mailbox=folder))
    workflow = make_workflow(owner=owner, definition={"name": "mail", "nodes": [
        {"id": "mail", "type": "imap", "config": {"credential": "inbox", "backfill": True}},
        {"id": "keep", "type": "storage", "config": {
            "operation": "write", "key": "in/{{ input.attachments[0].name }}",
            "file": "{{ input.attachments[0] }}"}}],
        "edges": [{"from": "mail", "to": "keep"}]})
    dovecot.deliver(message("Scans", attachment=b"a,b\n1,2\n",
                            more=(("big.bin", b"\x00" * 2000),)), folder)
    [outcome] = MailPoller().poll_all()  # the run starts after the commit, on the executor
    [run_id] = outcome.runs
    assert wait_for_run(run_id, timeout=60)
    run = Run.objects.get(pk=run_id)
    assert run.status == Run.Status.SUCCEEDED, run.error
    [ref] = run.input["attachments"]
    assert set(ref) == {"name", "size", "content_type", "key"}
    assert (ref["name"], ref["size"], ref["content_type"]) == ("data.csv", 8, "text/csv")
    [stored] = RunFile.objects.filter(run=run)
    assert stored.key == ref["key"]
    assert file_open(ref, project_id=workflow.project_id) == b"a,b\n1,2\n"
    assert run.input["attachments_skipped"] == [{
        "name": "big.bin", "size": 2000, "content_type": "application/octet-stream",
        "reason": "over the file size limit of 1000 bytes (WFAIB_FILE_MAX_SIZE)"}]
    assert (store / "in" / "data.csv").read_bytes() == b"a,b\n1,2\n"


def test_two_pollers_start_each_message_once(dovecot, inbox,
                                             django_capture_on_commit_callbacks):
    owner, folder = inbox
    workflow = imap_workflow(owner)
    with django_capture_on_commit_callbacks():
        first, second = MailPoller(), MailPoller()
        first.poll_all()
        for n in range(3):
            dovecot.deliver(message(f"m{n}"), folder)
        second.refresh()
        [entry] = second.entries()
        # Both listed the same UIDs; the cursor's lock lets only one start each run.
        started = first.poll_all()[0].runs + second.poll_all()[0].runs
    assert len(started) == 3
    assert subjects(workflow) == ["m0", "m1", "m2"]
    assert "\\Seen" not in "".join(dovecot.flags(folder).values())  # mark_seen is off
    assert entry.node_id == "mail"


def test_backfill_max_messages_and_a_recreated_mailbox(dovecot, inbox,
                                                       django_capture_on_commit_callbacks):
    owner, folder = inbox
    for n in range(3):
        dovecot.deliver(message(f"old {n}"), folder)
    workflow = imap_workflow(owner, backfill=True, max_messages=2)
    with django_capture_on_commit_callbacks():
        poller = MailPoller()
        assert len(poller.poll_all()[0].runs) == 2  # the rest waits for the next poll
        assert len(poller.poll_all()[0].runs) == 1
        assert subjects(workflow) == ["old 0", "old 1", "old 2"]
        # The mailbox is deleted and made again: new UIDVALIDITY, its UIDs start over.
        client = dovecot.client()
        assert client.delete(folder)[0] == "OK"
        assert client.create(folder)[0] == "OK"
        client.logout()
        dovecot.deliver(message("already there"), folder)
        assert poller.poll_all()[0].runs == []  # starts from the new mailbox's end
        dovecot.deliver(message("fresh"), folder)
        assert len(poller.poll_all()[0].runs) == 1
    assert subjects(workflow)[-1] == "fresh"


def test_the_scheduler_polls_on_the_interval_in_its_threads(dovecot, inbox,
                                                            django_capture_on_commit_callbacks):
    owner, folder = inbox
    workflow = imap_workflow(owner, interval=3600)
    ticker = Ticker()
    poller = ticker.mail
    poller.background = False  # polls in this thread, so the test sees them end
    with django_capture_on_commit_callbacks():
        ticker.tick()  # the first poll: the trigger's cursor is set at the end
        dovecot.deliver(message("between ticks"), folder)
        ticker.tick()  # the interval has not passed: not polled
        assert subjects(workflow) == []
        for entry in poller.entries():
            entry.next_poll = 0  # the hour has passed
        ticker.tick()
    assert subjects(workflow) == ["between ticks"]


@pytest.mark.django_db
def test_failures_are_kept_and_named_without_the_password(dovecot, capsys, settings):
    owner = UserFactory()
    workflow = imap_workflow(owner)
    credential_create(owner=owner, name="inbox", kind="imap",
                      data=dovecot.credential(password="Wr0ng-imap-pw"))
    [wrong] = MailPoller().poll_all()
    assert wrong.error == f"IMAP login as 'wf' was refused by 127.0.0.1:{dovecot.port}"
    assert wrong.runs == []

    def poll_with(**data):
        credential = Credential.objects.get(name="inbox", project__personal_owner=owner)
        credential.data = dovecot.credential(**data)
        credential.save()
        return MailPoller().poll_all()[0].error

    assert poll_with(mailbox="Nowhere") == (f"the IMAP server 127.0.0.1:{dovecot.port} has no "
                                            f"mailbox 'Nowhere' (or refused to open it)")
    down = free_port()
    assert poll_with(port=down).startswith(f"cannot reach the IMAP server 127.0.0.1:{down}: ")
    assert poll_with(ssl=True, port=dovecot.ssl_port).startswith(
        f"the TLS certificate of 127.0.0.1:{dovecot.ssl_port} is not trusted")
    settings.WFAIB = {**settings.WFAIB, "HTTP_ALLOW": []}
    assert poll_with() == (f"127.0.0.1:{dovecot.port}: refused: 127.0.0.1 is a loopback "
                           f"address; allow it with WFAIB_HTTP_ALLOW")
    settings.WFAIB = {**settings.WFAIB, "HTTP_ALLOW": ["127.0.0.1"]}
    credential_create(owner=owner, name="smtp", kind="smtp", data={
        "host": "127.0.0.1", "port": 25, "username": "", "password": "x", "security": "none",
        "from_address": "a@example.com"})
    workflow.definition["nodes"][0]["config"]["credential"] = "smtp"
    workflow_update(workflow=workflow, user=owner, definition=workflow.definition)
    [kind] = MailPoller().poll_all()
    assert kind.error == ("credential 'smtp' is of kind 'smtp'; this trigger needs an imap "
                          "credential")
    with pytest.raises(SystemExit):
        call_command("poll_imap")
    err = capsys.readouterr().err
    assert f"workflow {workflow.pk} node 'mail': credential 'smtp' is of kind" in err
    assert "Wr0ng" not in err


@pytest.mark.django_db
def test_tls_with_a_trusted_certificate(dovecot, monkeypatch, django_capture_on_commit_callbacks):
    owner = UserFactory()
    folder = new_folder(dovecot)
    credential_create(owner=owner, name="inbox", kind="imap", data=dovecot.credential(
        ssl=True, port=dovecot.ssl_port, mailbox=folder))
    workflow = imap_workflow(owner)
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.cert))
    with django_capture_on_commit_callbacks():
        assert MailPoller().poll_all()[0].error is None
        dovecot.deliver(message("over TLS"), folder)
        assert len(MailPoller().poll_all()[0].runs) == 1
    assert subjects(workflow) == ["over TLS"]
    call_command("poll_imap", workflow=workflow.pk)


@pytest.mark.parametrize(("config", "path", "message"), [
    ({}, "nodes[0].config.credential", "Field required"),
    ({"credential": "inbox", "interval": 5}, "nodes[0].config.interval",
     "greater than or equal to 10"),
    ({"credential": "inbox", "max_messages": 0}, "nodes[0].config.max_messages",
     "greater than or equal to 1"),
    ({"credential": "inbox", "folder": "x"}, "nodes[0].config.folder", "Extra inputs"),
])
def test_bad_imap_triggers_are_refused_naming_the_field(config, path, message):
    errors = validate_definition({"name": "m", "nodes": [
        {"id": "mail", "type": "imap", "config": config}], "edges": []})
    assert any(e["path"] == path and message in e["message"] for e in errors), errors


@pytest.mark.django_db(transaction=True)
def test_the_scheduler_hands_polls_to_its_threads(dovecot):
    owner = UserFactory()
    folder = new_folder(dovecot)
    credential_create(owner=owner, name="inbox", kind="imap",
                      data=dovecot.credential(mailbox=folder))
    workflow = imap_workflow(owner)
    ticker = Ticker()
    ticker.tick()  # the first poll, on the poller's pool: it sets the cursor at the end
    ticker.mail._executor().shutdown(wait=True)  # wait for that poll
    cursor = MailboxCursor.objects.get(workflow=workflow, node_id="mail")
    assert cursor.polled_at is not None
    assert cursor.last_error == ""
    assert ticker.mail._busy == set()
    assert Run.objects.filter(workflow=workflow).count() == 0
