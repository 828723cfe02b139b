"""`imap`: a trigger that starts the workflow once per new message in an IMAP mailbox.

    {"type": "imap", "config": {"credential": "support-inbox", "interval": 60,
                                "mark_seen": true}}

The poller (runs/imap_trigger.py: the scheduler loop, or `manage.py poll_imap`) logs in with
the `imap` credential every `interval` seconds and starts one run per message whose UID is
above the last one it handled; the UIDVALIDITY and the last UID are kept in the database
(runs.MailboxCursor) and moved in the same transaction as the run, so each message starts one
run, across restarts and with several pollers. On its first poll the trigger starts from the
mailbox's end (only messages arriving later start runs) unless `backfill` is on. If the
mailbox's UIDVALIDITY changes (it was recreated), it starts from the end again.

The node's output is the run's payload: {uid, uidvalidity, mailbox, message_id, from, to, cc,
reply_to, subject, date, text, html, attachments, attachments_skipped, flags, node}.
Bodies over 256 KB are cut (`text_truncated`, `html_truncated` say so). The attachments are
stored as the run's files, with the run: `attachments` holds their file references
{name, size, content_type, key} (for an email, storage or HTTP node to use); one over
WFAIB_FILE_MAX_SIZE is not stored but listed in `attachments_skipped` as
{name, size, content_type, reason}.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..base import NodeConfig, NodeType, credential_field
from ..context import NodeContext
from ..registry import register


class ImapConfig(NodeConfig):
    credential: int | str = Field(..., description="An `imap` credential (host, port, login, "
                                  "ssl, mailbox).", json_schema_extra=credential_field("imap"))
    mailbox: str = Field("", max_length=500,
                         description="The folder to watch; empty: the credential's, or INBOX.")
    interval: int = Field(60, ge=10, le=86400, description="Seconds between two polls.")
    mark_seen: bool = Field(False, description="Flag each message \\Seen once its run started.")
    backfill: bool = Field(False, description="On the first poll, also start runs for the "
                           "messages already there (else only for later ones).")
    max_messages: int = Field(20, ge=1, le=500, description="Runs started per poll at most "
                              "(the rest wait for the next poll).")


@register
class ImapTriggerNode(NodeType):
    type = "imap"
    label = "Email received (IMAP)"
    category = "trigger"
    description = "Starts the workflow once for each new message in an IMAP mailbox."
    icon = "inbox"
    inputs = []
    Config = ImapConfig
    timeout = 5.0
    pure = True
    is_trigger = True

    def run(self, ctx: NodeContext, config: ImapConfig, input: Any) -> Any:
        return input
