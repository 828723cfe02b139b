"""Real mail servers for tests: an aiosmtpd SMTP server (plain, STARTTLS or implicit TLS,
with or without a login), Debian's Dovecot as an IMAP server (the `dovecot` fixture in
tests/conftest.py) and a self-signed certificate for 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import imaplib
import ipaddress
import os
import shutil
import ssl
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.servers import free_port, installed, wait_until

REFUSING_DOMAIN = "refused.example"


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1 (and localhost), valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class SmtpServer:
    """What the server got, and how to reach it."""

    port: int
    security: str
    username: str = ""
    password: str = ""
    received: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    controller: Any = None

    def credential(self, **changes: Any) -> dict[str, Any]:
        data = {"host": "127.0.0.1", "port": self.port, "username": self.username,
                "password": self.password, "security": self.security,
                "from_address": "Reports <reports@wfaib.example>", **changes}
        return {"kind": "smtp", "data": data}

    def stop(self) -> None:
        self.controller.stop()


class _Handler:
    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@" + REFUSING_DOMAIN):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.server.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                             parsed))  # type: ignore[arg-type]
        return "250 2.0.0 queued"


def start_smtp(security: str = "none", *, username: str = "", password: str = "",
               cert: tuple[Path, Path] | None = None) -> SmtpServer:
    server = SmtpServer(free_port(), security, username, password)
    kwargs: dict[str, Any] = {}
    if cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*cert)
        kwargs["ssl_context" if security == "ssl" else "tls_context"] = context
        kwargs["require_starttls"] = security == "starttls"
    if username:
        def authenticator(smtp, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword)
                  and auth_data.login.decode() == username
                  and auth_data.password.decode() == password)
            server.logins.append(f"{auth_data.login.decode()}:{ok}")
            return AuthResult(success=ok, handled=False)  # handled=False: it answers 535

        kwargs.update(authenticator=authenticator, auth_required=True,
                      auth_require_tls=security != "none")
    server.controller = Controller(_Handler(server), hostname="127.0.0.1", port=server.port,
                                   **kwargs)
    server.controller.start()
    return server


@dataclass(frozen=True)
class ImapServer:
    port: int
    ssl_port: int
    user: str
    password: str
    cert: Path

    def credential(self, **changes) -> dict:
        return {"host": "127.0.0.1", "port": self.port, "username": self.user,
                "password": self.password, "ssl": False, "mailbox": "INBOX", **changes}

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        client.login(self.user, self.password)
        return client

    def deliver(self, raw: bytes, mailbox: str = "INBOX") -> None:
        """Put a message in the mailbox (IMAP APPEND), as a mail server's delivery would."""
        client = self.client()
        try:
            status, _ = client.append(mailbox, None, None, raw)
            assert status == "OK"
        finally:
            client.logout()

    def flags(self, mailbox: str = "INBOX") -> dict[int, str]:
        client = self.client()
        try:
            client.select(mailbox, readonly=True)
            status, data = client.uid("FETCH", "1:*", "(FLAGS)")
            found = {}
            for line in data:
                if not line:
                    continue
                text = line.decode()
                uid = int(text.split("UID ", 1)[1].split()[0].rstrip(")"))
                found[uid] = text
            return found
        finally:
            client.logout()


DOVECOT_CONF = """\
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={uid} home={mail}/%u
}}
mail_location = maildir:{mail}/%u/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ssl_port}
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
"""
NOBODY = 65534  # dovecot will not deliver mail as root: the mail folder belongs to nobody


@contextmanager
def dovecot_server() -> Iterator[ImapServer]:
    """A Dovecot IMAP server on 127.0.0.1 (plain and TLS listeners), with one user whose
    password is in a passwd file; skips the test when Dovecot cannot run here."""
    binary = installed("dovecot")
    if not binary:
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    if os.geteuid() != 0:
        pytest.skip("the Dovecot fixture runs the server as root (as .ci/run does)")
    # Dovecot's own users (auth, mail) must reach these files: not under pytest's private
    # temporary folder. The mail folder belongs to the unprivileged mail user.
    base = Path(tempfile.mkdtemp(prefix="wfaib-dovecot-"))
    base.chmod(0o755)
    mail = base / "mail"
    mail.mkdir()
    os.chown(mail, NOBODY, NOBODY)
    cert, key = self_signed(base)
    (base / "passwd").write_text("wf:{PLAIN}imap-Secr3t-pw::::::\n")
    port, ssl_port = free_port(), free_port()
    conf = base / "dovecot.conf"
    conf.write_text(DOVECOT_CONF.format(base=base, mail=mail, cert=cert, key=key, port=port,
                                        ssl_port=ssl_port, uid=NOBODY))
    with (base / "out.log").open("wb") as out:
        proc = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=out,
                                stderr=subprocess.STDOUT)
    server = ImapServer(port, ssl_port, "wf", "imap-Secr3t-pw", cert)
    try:
        wait_until("Dovecot", lambda: server.client().logout(), base / "dovecot.log")
        yield server
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        shutil.rmtree(base, ignore_errors=True)
