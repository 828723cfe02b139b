""""Test connection" of an imap credential against a real Dovecot on 127.0.0.1 (plain IMAP;
the integrations tests run it with TLS too): login and opening the mailbox."""

from __future__ import annotations

import imaplib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.servers import free_port
from workflows.services import credential_create

pytestmark = pytest.mark.django_db

CONF = """\
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={base}/mail/%u
}}
mail_location = maildir:{base}/mail/%u/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
"""


@pytest.fixture(scope="module")
def imap_port():
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot"
                                         if os.path.exists("/usr/sbin/dovecot") else None)
    if not binary or os.geteuid() != 0:
        pytest.skip("needs Debian's dovecot-imapd, run as root (as .ci/run does)")
    base = Path(tempfile.mkdtemp(prefix="wfaib-creds-dovecot-"))
    base.chmod(0o755)
    (base / "mail").mkdir()
    os.chown(base / "mail", 65534, 65534)
    (base / "passwd").write_text("wf:{PLAIN}imap-pw-31::::::\n")
    port = free_port()
    (base / "dovecot.conf").write_text(CONF.format(base=base, port=port))
    proc = subprocess.Popen([binary, "-F", "-c", str(base / "dovecot.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):  # until it accepts a connection (or gives up)
            try:
                imaplib.IMAP4("127.0.0.1", port, timeout=2).logout()
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        shutil.rmtree(base, ignore_errors=True)


def check(api, credential):
    response = api.post(f"/api/credentials/{credential.pk}/test", {}, format="json")
    assert response.status_code == 200
    return response.json()


def test_imap_logs_in_and_opens_the_mailbox(api, user, imap_port):
    data = {"host": "127.0.0.1", "port": imap_port, "ssl": False, "username": "wf",
            "password": "imap-pw-31", "mailbox": "INBOX"}
    good = credential_create(owner=user, name="in", kind="imap", data=data)
    assert check(api, good) == {"ok": True, "message": f"connected to 127.0.0.1:{imap_port}, "
                                                       f"logged in as wf, opened INBOX"}
    bad = credential_create(owner=user, name="bad", kind="imap",
                            data={**data, "password": "imap-wrong-77"})
    result = check(api, bad)
    assert result["ok"] is False
    assert "imap-wrong-77" not in result["message"]
    assert result["message"] == f"IMAP login as 'wf' was refused by 127.0.0.1:{imap_port}"
