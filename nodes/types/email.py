"""`email`: send one message over SMTP with an `smtp` credential.

    {"type": "email", "config": {
        "credential": "mailer",
        "to": "{{ input.customer.email }}", "cc": ["ops@example.com"],
        "subject": "Your report for {{ input.month }}",
        "text": "Hello {{ input.customer.name }}, ...", "html": "<p>Hello ...</p>",
        "attachments": "{{ nodes.report.file }}"}}

Recipients are lists or comma-separated strings of addresses (`Name <a@b.example>` too),
each validated; a CR or LF in any header value (subject, address, name, file name) is refused,
never folded into a header. Attachments are file references `{name, size, content_type, key}`
read with `ctx.open_file`, or inline `{name, content_type, content_base64}`.

The credential's `security` is `starttls` (upgrade required, never skipped), `ssl` (TLS from
the first byte) or `none`; the certificate is verified against the host name. The server is
reached under the outbound-address policy (internal hosts need WFAIB_HTTP_ALLOW).

Output: {message_id, accepted: [recipients the server took], refused: {address: reason}}.
"""

from __future__ import annotations

import base64
import binascii
import email.errors
import email.utils
import smtplib
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any

from pydantic import Field

from ..base import NodeConfig, NodeError, NodeType, credential_field, expression_field
from ..context import NodeContext
from ..registry import register

MAX_ATTACHMENTS_BYTES = 25 * 1024 * 1024  # what common mail servers accept, base64 aside
HEADER_BREAKS = ("\r", "\n", "\x00")

Recipients = list[str] | str


class EmailConfig(NodeConfig):
    credential: int | str | None = Field(
        None, description="An `smtp` credential (host, port, login, security, from_address).",
        json_schema_extra=credential_field("smtp"))
    to: Recipients = Field(..., description="Recipients: a list or a comma-separated string.",
                           json_schema_extra=expression_field())
    cc: Recipients = Field(default_factory=list, json_schema_extra=expression_field())
    bcc: Recipients = Field(default_factory=list, json_schema_extra=expression_field())
    from_address: str = Field("", description="Sender; empty: the credential's from_address.",
                              json_schema_extra=expression_field())
    reply_to: str = Field("", json_schema_extra=expression_field())
    subject: str = Field(..., max_length=998, json_schema_extra=expression_field())
    text: str = Field("", description="The plain-text body.",
                      json_schema_extra=expression_field(format="textarea"))
    html: str = Field("", description="The HTML body (sent beside the text one).",
                      json_schema_extra=expression_field(format="textarea"))
    attachments: list[dict[str, Any]] | dict[str, Any] | None = Field(
        None, description="File references {name, size, content_type, key}, or "
        "{name, content_type, content_base64}.", json_schema_extra=expression_field())
    timeout: float = Field(30.0, gt=0, le=300, description="Seconds for the SMTP exchange.")


def one_line(value: str, what: str) -> str:
    if any(c in value for c in HEADER_BREAKS):
        raise NodeError(f"{what} must be one line: CR, LF and NUL are refused (header "
                        f"injection)")
    return value


def parse_recipients(value: Recipients, what: str) -> list[str]:
    """Addresses as `Name <a@b>` / `a@b` strings; NodeError naming the field and the bad one."""
    items = [value] if isinstance(value, str) else list(value)
    found: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise NodeError(f"{what}: {item!r} is not an address")
        one_line(item, what)
        if not item.strip():
            continue
        for name, addr in email.utils.getaddresses([item]):
            try:
                parsed = Address(display_name=name, addr_spec=addr)
                valid = bool(parsed.username and parsed.domain)
            except (ValueError, IndexError, TypeError, email.errors.MessageError):
                valid = False
            if not valid:
                raise NodeError(f"{what}: {item.strip()!r} is not a valid email address")
            found.append(str(parsed))
    return found


def attachment_bytes(ctx: NodeContext, item: Any) -> tuple[str, str, bytes]:
    """(file name, content type, content) of one attachment."""
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
        raise NodeError("attachments: each is a file reference {name, size, content_type, key} "
                        "or {name, content_type, content_base64}")
    name = one_line(item["name"], f"attachment {item['name']!r}: its name")
    content_type = str(item.get("content_type") or "application/octet-stream")
    one_line(content_type, f"attachment {name!r}: its content_type")
    if content_type.count("/") != 1:
        raise NodeError(f"attachment {name!r}: content_type {content_type!r} is not a MIME type")
    if "content_base64" in item:
        try:
            return name, content_type, base64.b64decode(str(item["content_base64"]),
                                                        validate=True)
        except (binascii.Error, ValueError):
            raise NodeError(f"attachment {name!r}: content_base64 is not valid base64") from None
    if "key" not in item:
        raise NodeError(f"attachment {name!r}: give a file reference (key) or content_base64")
    try:
        data = ctx.open_file(item)
    except NodeError as exc:
        raise NodeError(f"attachment {name!r}: {exc.message}") from None
    return name, content_type, data


def build_message(ctx: NodeContext, config: EmailConfig, sender: str, *, to: list[str],
                  cc: list[str]) -> EmailMessage:
    """The message, Bcc left out (its recipients are only given to the server)."""
    message = EmailMessage()
    message["From"] = sender
    for header, addresses in (("To", to), ("Cc", cc)):
        if addresses:
            message[header] = ", ".join(addresses)
    if config.reply_to:
        message["Reply-To"] = ", ".join(parse_recipients(config.reply_to, "reply_to"))
    message["Subject"] = one_line(config.subject, "subject")
    message["Date"] = email.utils.formatdate(localtime=False)
    domain = sender.rpartition("@")[2].rstrip(">") or None
    message["Message-ID"] = email.utils.make_msgid(domain=domain)
    message.set_content(config.text or "")
    if config.html:
        message.add_alternative(config.html, subtype="html")
    items = config.attachments
    total = 0
    for item in [items] if isinstance(items, dict) else items or []:
        name, content_type, data = attachment_bytes(ctx, item)
        total += len(data)
        if total > MAX_ATTACHMENTS_BYTES:
            raise NodeError(f"attachments are over {MAX_ATTACHMENTS_BYTES // (1024 * 1024)} MB "
                            f"in all")
        maintype, subtype = content_type.split("/", 1)
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message


class _Pinned(smtplib.SMTP):
    """Connects to the address the policy checked, while TLS verifies the host name."""

    address = ""
    _host = ""  # smtplib's: the name TLS verifies (set only when given to __init__)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return super()._get_socket(self.address or host, port, timeout)  # type: ignore[misc]


class _PinnedSSL(smtplib.SMTP_SSL, _Pinned):
    pass


def login(client: smtplib.SMTP, username: str, password: str) -> None:
    """Log in with one mechanism, PLAIN when offered: smtplib's `login` would try the next
    one after a refusal, and some servers hang on that instead of answering."""
    if not client.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("AUTH")
    offered = client.esmtp_features["auth"].upper().split()
    if "PLAIN" not in offered:
        client.login(username, password)
        return
    client.user, client.password = username, password
    client.auth("PLAIN", client.auth_plain)


@contextmanager
def smtp_session(settings: dict[str, Any], address: str, timeout: float) -> Iterator[
        smtplib.SMTP]:
    """A connected, secured and logged-in SMTP client (`settings` from `settings_from`),
    connected to `address`, the IP the outbound policy checked; quit when the block ends."""
    host, port = str(settings["host"]), int(settings["port"])
    security = settings["security"]
    context = ssl.create_default_context()
    client: _Pinned = (_PinnedSSL(timeout=timeout, context=context) if security == "ssl"
                       else _Pinned(timeout=timeout))
    client.address = address
    client._host = host
    try:
        client.connect(host, port)
        client.ehlo_or_helo_if_needed()
        if security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if settings.get("username"):
            login(client, str(settings["username"]), str(settings.get("password") or ""))
        yield client
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def send(settings: dict[str, Any], address: str, message: EmailMessage,
         recipients: list[str], timeout: float) -> dict[str, tuple[int, bytes]]:
    with smtp_session(settings, address, timeout) as client:
        return client.send_message(message, to_addrs=recipients)


def failure(exc: Exception, host: str, port: int, username: str) -> str:
    where = f"{host}:{port}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"SMTP login as {username!r} was refused by {where} ({exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"the SMTP server {where} does not offer {exc} (security: starttls needs it)"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = ", ".join(f"{a} ({c})" for a, (c, _) in exc.recipients.items())
        return f"the SMTP server refused every recipient: {refused}"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"the SMTP server refused the sender {exc.sender!r} ({exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) \
            else str(exc.smtp_error)
        return f"the SMTP server {where} answered {exc.smtp_code}: {text}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"the TLS certificate of {where} is not trusted: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS with {where} failed: {exc.reason or exc}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"the SMTP server {where} closed the connection"
    if isinstance(exc, TimeoutError):
        return f"the SMTP server {where} did not answer in time"
    return f"cannot reach the SMTP server {where}: {exc.strerror or exc}" if isinstance(
        exc, OSError) else f"sending through {where} failed: {exc}"


def settings_from(data: dict[str, Any]) -> dict[str, Any]:
    """An smtp credential's data with its security and port checked and defaulted."""
    security = data.get("security") or "starttls"
    if security not in ("starttls", "ssl", "none"):
        raise NodeError(f"the smtp credential's security is {security!r}; use starttls, ssl "
                        f"or none")
    if not data.get("host"):
        raise NodeError("the smtp credential has no host")
    try:
        port = int(data.get("port") or {"ssl": 465, "starttls": 587}.get(security, 25))
    except (TypeError, ValueError):
        raise NodeError("the smtp credential's port is not a number") from None
    return {**data, "security": security, "port": port}


def smtp_settings(ctx: NodeContext, config: EmailConfig) -> dict[str, Any]:
    if config.credential in (None, ""):
        raise NodeError("no credential: pick an smtp credential")
    return settings_from(dict(ctx.credential(config.credential, kinds=("smtp",))["data"]))


@register
class EmailNode(NodeType):
    """Sends one email through the credential's SMTP server."""

    type = "email"
    label = "Send email"
    category = "core"
    description = "Sends an email over SMTP (to/cc/bcc, text and HTML, attachments)."
    icon = "mail"
    Config = EmailConfig
    output_schema = {"type": "object", "properties": {
        "message_id": {"type": "string"},
        "accepted": {"type": "array", "items": {"type": "string"}},
        "refused": {"type": "object"}}}
    timeout = 330.0  # the SMTP exchange's own timeout (config.timeout) ends it first

    def run(self, ctx: NodeContext, config: EmailConfig, input: Any) -> Any:
        settings = smtp_settings(ctx, config)
        sender_text = config.from_address or str(settings.get("from_address") or "")
        senders = parse_recipients(sender_text, "from_address")
        if len(senders) != 1:
            raise NodeError("from_address: give one sender (here or in the smtp credential)")
        to, cc = parse_recipients(config.to, "to"), parse_recipients(config.cc, "cc")
        bcc = parse_recipients(config.bcc, "bcc")
        recipients = [email.utils.parseaddr(a)[1] for a in (*to, *cc, *bcc)]
        if not recipients:
            raise NodeError("to: no recipient")
        message = build_message(ctx, config, senders[0], to=to, cc=cc)
        host, port = str(settings["host"]), int(settings["port"])
        address = ctx.outbound_address(host, port)
        try:
            refused = send(settings, address, message, recipients, config.timeout)
        except (smtplib.SMTPException, OSError) as exc:
            text = failure(exc, host, port, str(settings.get("username") or ""))
            password = str(settings.get("password") or "")
            raise NodeError(text.replace(password, "***") if password else text) from None
        return {"message_id": message["Message-ID"],
                "accepted": [r for r in recipients if r not in refused],
                "refused": {r: f"{code} {reply.decode(errors='replace')}"
                            for r, (code, reply) in refused.items()}}
