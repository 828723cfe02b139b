"""Real mail servers for tests: an aiosmtpd SMTP server (plain, STARTTLS or implicit TLS,
with or without a login) and a self-signed certificate for 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.servers import free_port

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
