""""Test connection" of an imap credential against a real Dovecot on 127.0.0.1 (the
`dovecot` fixture, plain IMAP here; the integrations tests use its TLS listener too): login and
opening the mailbox."""

from __future__ import annotations

import pytest

from workflows.services import credential_create

pytestmark = pytest.mark.django_db


def check(api, credential):
    response = api.post(f"/api/credentials/{credential.pk}/test", {}, format="json")
    assert response.status_code == 200
    return response.json()


def test_imap_logs_in_and_opens_the_mailbox(api, user, dovecot):
    data = dovecot.credential()
    imap_port = dovecot.port
    good = credential_create(owner=user, name="in", kind="imap", data=data)
    assert check(api, good) == {"ok": True, "message": f"connected to 127.0.0.1:{imap_port}, "
                                                       f"logged in as wf, opened INBOX"}
    bad = credential_create(owner=user, name="bad", kind="imap",
                            data={**data, "password": "imap-wrong-77"})
    result = check(api, bad)
    assert result["ok"] is False
    assert "imap-wrong-77" not in result["message"]
    assert result["message"] == f"IMAP login as 'wf' was refused by 127.0.0.1:{imap_port}"
