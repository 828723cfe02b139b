"""Reading a mailbox for the `imap` trigger: log in with an `imap` credential (through the
outbound-address policy), report the mailbox's UIDVALIDITY and UIDNEXT, list the UIDs above
one, fetch a message (a run payload and its attachments' bytes), flag it seen.

    with open_mailbox(credential_data, mailbox="INBOX", timeout=30) as box:
        state = box.state()                       # MailboxState(uidvalidity, uidnext)
        for uid in box.uids_after(41, limit=20):
            message = box.message(uid)          # Message(payload, attachments) or None

Built on imap-tools (over the standard imaplib). The connection goes to the address the
policy checked, while TLS verifies the credential's host name. Failures are `MailboxError`s
with a reason and never the password.
"""

from __future__ import annotations

import imaplib
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from imap_tools import AND, MailMessage, MailMessageFlags
from imap_tools.errors import (
    MailboxFolderSelectError,
    MailboxLoginError,
    UnexpectedCommandStatusError,
)
from imap_tools.mailbox import BaseMailBox

from .engine.ssrf import checked_address

BODY_LIMIT = 256 * 1024  # characters of text or HTML kept in a run's payload


class MailboxError(Exception):
    """The mailbox could not be read; the message says why (no secret)."""


@dataclass(frozen=True)
class MailboxState:
    uidvalidity: int
    uidnext: int


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Message:
    """A fetched message: `payload` (a run's input, without its attachments) and the
    attachments' bytes, which the trigger stores as the run's files."""

    payload: dict[str, Any]
    attachments: list[Attachment]


class _PinnedIMAP4(imaplib.IMAP4):
    """Connects to the checked address; `host` stays the credential's name."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        self._address = address
        super().__init__(host, port, timeout=timeout)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        return socket.create_connection((self._address, self.port), timeout)


class _PinnedIMAP4SSL(imaplib.IMAP4_SSL):
    def __init__(self, host: str, port: int, address: str, timeout: float,
                 context: ssl.SSLContext):
        self._address = address
        super().__init__(host, port, ssl_context=context, timeout=timeout)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        sock = socket.create_connection((self._address, self.port), timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


class _PinnedMailBox(BaseMailBox):
    def __init__(self, host: str, port: int, address: str, timeout: float, use_ssl: bool):
        self._args = (host, port, address, timeout)
        self._ssl = use_ssl
        super().__init__()

    def _get_mailbox_client(self) -> imaplib.IMAP4:
        if self._ssl:
            return _PinnedIMAP4SSL(*self._args, context=ssl.create_default_context())
        return _PinnedIMAP4(*self._args)


class Mailbox:
    """One logged-in mailbox (see `open_mailbox`)."""

    def __init__(self, box: BaseMailBox, name: str):
        self.box = box
        self.name = name

    def state(self) -> MailboxState:
        status = self.box.folder.status(self.name, ["UIDVALIDITY", "UIDNEXT"])
        return MailboxState(int(status["UIDVALIDITY"]), int(status["UIDNEXT"]))

    def uids_after(self, last_uid: int, *, limit: int) -> list[int]:
        # "N:*" always matches the newest message, even below N: filter again.
        found = self.box.uids(AND(uid=f"{last_uid + 1}:*"))
        return sorted(u for u in (int(x) for x in found) if u > last_uid)[:limit]

    def message(self, uid: int) -> Message | None:
        """The message (its payload and attachments), or None when it is gone (expunged
        meanwhile)."""
        messages = list(self.box.fetch(AND(uid=str(uid)), mark_seen=False, bulk=False))
        found = [m for m in messages if m.uid == str(uid)]
        if not found:
            return None
        return Message(message_payload(found[0], self.name),
                       [Attachment(a.filename or "attachment", a.content_type or "", a.payload)
                        for a in found[0].attachments])

    def mark_seen(self, uid: int) -> None:
        self.box.flag(str(uid), MailMessageFlags.SEEN, True)


def _cut(text: str) -> tuple[str, bool]:
    return (text[:BODY_LIMIT], True) if len(text) > BODY_LIMIT else (text, False)


def message_payload(message: MailMessage, mailbox: str) -> dict[str, Any]:
    text, text_cut = _cut(message.text or "")
    html, html_cut = _cut(message.html or "")
    message_id = message.headers.get("message-id", ("",))
    return {
        "uid": int(message.uid or 0),
        "mailbox": mailbox,
        "message_id": (message_id[0] if message_id else "").strip(),
        "from": message.from_,
        "to": list(message.to),
        "cc": list(message.cc),
        "reply_to": list(message.reply_to),
        "subject": message.subject,
        "date": message.date.isoformat() if message.date and message.date.year > 1900 else None,
        "text": text,
        "html": html,
        "text_truncated": text_cut,
        "html_truncated": html_cut,
        "flags": list(message.flags),
    }


def _failure(exc: BaseException, where: str, username: str, password: str,
             mailbox: str) -> str:
    if isinstance(exc, MailboxLoginError):
        text = f"IMAP login as {username!r} was refused by {where}"
    elif isinstance(exc, MailboxFolderSelectError):
        text = f"the IMAP server {where} has no mailbox {mailbox!r} (or refused to open it)"
    elif isinstance(exc, ssl.SSLCertVerificationError):
        text = f"the TLS certificate of {where} is not trusted: {exc.verify_message}"
    elif isinstance(exc, UnexpectedCommandStatusError):
        text = f"the IMAP server {where} refused a command: {exc}"
    elif isinstance(exc, TimeoutError):
        text = f"the IMAP server {where} did not answer in time"
    elif isinstance(exc, OSError):
        text = f"cannot reach the IMAP server {where}: {exc.strerror or exc}"
    else:
        text = f"reading the mailbox at {where} failed: {exc}"
    return text.replace(password, "***") if password else text


@contextmanager
def open_mailbox(data: dict[str, Any], *, mailbox: str, timeout: float) -> Iterator[Mailbox]:
    """Log in with an `imap` credential's data and select `mailbox` (read-write only to flag
    messages seen). MailboxError on any failure."""
    host = str(data.get("host") or "")
    use_ssl = bool(data.get("ssl", True))
    username, password = str(data.get("username") or ""), str(data.get("password") or "")
    if not host:
        raise MailboxError("the imap credential has no host")
    try:
        port = int(data.get("port") or (993 if use_ssl else 143))
    except (TypeError, ValueError):
        raise MailboxError("the imap credential's port is not a number") from None
    where = f"{host}:{port}"
    try:
        address = str(checked_address(host, port))
    except Exception as exc:  # OutboundRefused and resolution failures (httpcore errors)
        raise MailboxError(f"{where}: {exc}") from None
    box: BaseMailBox | None = None
    try:
        box = _PinnedMailBox(host, port, address, timeout, use_ssl)
        box.login(username, password, initial_folder=mailbox)
        yield Mailbox(box, mailbox)
    except MailboxError:
        raise
    except (imaplib.IMAP4.error, OSError, UnexpectedCommandStatusError, ValueError) as exc:
        raise MailboxError(_failure(exc, where, username, password, mailbox)) from None
    finally:
        if box is not None:
            try:
                box.logout()
            except Exception:  # the connection may be gone already
                box.client.shutdown()

