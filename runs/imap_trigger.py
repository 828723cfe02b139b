"""The `imap` trigger's poller: one run per new message of a watched mailbox, each once.

    MailPoller(background=True).tick()   # a scheduler step (runs/scheduler.py Ticker)
    MailPoller().poll_all()              # `manage.py poll_imap`: every trigger now, in turn

Like the `schedule` triggers, the poller keeps the `imap` nodes of active workflows in memory
and re-reads a workflow's definition only when its version changes. Each trigger is polled
every `interval` seconds; in the scheduler loop a poll runs on a small thread pool, so a slow
mail server never holds the loop (a trigger still being polled is skipped).

Each message once: the trigger's `MailboxCursor` row holds the mailbox's UIDVALIDITY and the
last UID that started a run; starting a message's run and moving the cursor past its UID
happen in one transaction, under the row's lock, so neither a restart nor a second poller
starts it again. The message's attachments are stored as the run's files in that
transaction (the run input's `attachments` are file references; one over
WFAIB_FILE_MAX_SIZE is listed in `attachments_skipped` instead). A poll that fails (server
down, login refused, credential missing) starts nothing, is logged with the workflow and
node, and is kept as the cursor's `last_error`.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from pydantic import ValidationError

from nodes.context import FileRef
from nodes.types.imap import ImapConfig
from wfaib.conf import wfaib_settings
from workflows.models import Workflow, WorkflowVersion
from workflows.selectors import credential_usable_in

from .files import safe_content_type, safe_name
from .imap_client import MailboxError, MailboxState, Message, open_mailbox
from .models import MailboxCursor, Run
from .services import NewFile, run_start_with_files

logger = logging.getLogger("wfaib.imap")

POLL_TIMEOUT = 30.0  # seconds for one IMAP exchange
POLL_WORKERS = 4  # mailboxes polled at once by one scheduler


@dataclass
class MailEntry:
    workflow_id: int
    project_id: int
    node_id: str
    config: ImapConfig
    next_poll: float = 0.0  # time.monotonic() of the next poll


@dataclass
class PollOutcome:
    workflow_id: int
    node_id: str
    runs: list[int] = field(default_factory=list)
    error: str | None = None


def triggers_of(workflow_id: int, project_id: int, definition: dict) -> list[MailEntry]:
    entries = []
    for node in (definition or {}).get("nodes", []):
        if not isinstance(node, dict) or node.get("type") != "imap":
            continue
        try:
            config = ImapConfig.model_validate(node.get("config") or {})
        except ValidationError as exc:  # saved definitions are validated; be safe anyway
            logger.error("workflow %s node %s: bad imap trigger: %s", workflow_id,
                         node.get("id"), exc)
            continue
        entries.append(MailEntry(workflow_id, project_id, str(node["id"]), config))
    return entries


class MailPoller:
    """Polls the `imap` triggers of active workflows."""

    def __init__(self, *, background: bool = False) -> None:
        self.background = background
        self._versions: dict[int, int] = {}
        self._entries: dict[int, list[MailEntry]] = {}
        self._busy: set[tuple[int, str]] = set()
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def refresh(self) -> None:
        current = {wid: (version, project) for wid, version, project in
                   Workflow.objects.filter(is_active=True)
                   .values_list("id", "version", "project_id")}
        for gone in set(self._versions) - set(current):
            self._versions.pop(gone)
            self._entries.pop(gone, None)
        changed = {wid: vp for wid, vp in current.items() if self._versions.get(wid) != vp[0]}
        if not changed:
            return
        versions = WorkflowVersion.objects.filter(
            workflow_id__in=list(changed), number__in={v for v, _ in changed.values()}
        ).values_list("workflow_id", "number", "definition")
        for wid, number, definition in versions:
            if changed[wid][0] != number:
                continue
            self._versions[wid] = number
            self._entries[wid] = triggers_of(wid, changed[wid][1], definition)

    def entries(self, workflow_id: int | None = None) -> list[MailEntry]:
        return [e for wid, entries in self._entries.items() for e in entries
                if workflow_id is None or wid == workflow_id]

    def tick(self, now: Any = None) -> list[PollOutcome]:
        """Poll the triggers whose interval has passed (in the background when so built)."""
        self.refresh()
        outcomes = []
        clock = time.monotonic()
        for entry in self.entries():
            key = (entry.workflow_id, entry.node_id)
            with self._lock:
                if entry.next_poll > clock or key in self._busy:
                    continue
                entry.next_poll = clock + entry.config.interval
                self._busy.add(key)
            if self.background:
                self._executor().submit(self._poll_in_thread, entry)
            else:
                try:
                    outcomes.append(poll_trigger(entry))
                finally:
                    with self._lock:
                        self._busy.discard(key)
        return outcomes

    def poll_all(self, workflow_id: int | None = None) -> list[PollOutcome]:
        """Poll every trigger now, in this thread, whatever its interval."""
        self.refresh()
        return [poll_trigger(entry) for entry in self.entries(workflow_id)]

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(POLL_WORKERS, thread_name_prefix="wfaib-imap")
        return self._pool

    def _poll_in_thread(self, entry: MailEntry) -> None:
        try:
            poll_trigger(entry)
        except Exception:  # a poll must never take the pool down
            logger.exception("imap trigger of workflow %s node %r failed", entry.workflow_id,
                             entry.node_id)
        finally:
            with self._lock:
                self._busy.discard((entry.workflow_id, entry.node_id))
            connection.close()


def poll_trigger(entry: MailEntry) -> PollOutcome:
    """One poll of one trigger: a run for each message after the cursor."""
    outcome = PollOutcome(entry.workflow_id, entry.node_id)
    config = entry.config
    try:
        data = _credential_data(entry)
        mailbox = config.mailbox or str(data.get("mailbox") or "") or "INBOX"
        with open_mailbox(data, mailbox=mailbox, timeout=POLL_TIMEOUT) as box:
            state = box.state()
            cursor = _cursor(entry, mailbox, state)
            for uid in box.uids_after(cursor.last_uid, limit=config.max_messages):
                run = _start_run(entry, state.uidvalidity, uid, box.message(uid))
                if run is not None:
                    outcome.runs.append(run.pk)
                    if config.mark_seen:
                        box.mark_seen(uid)
    except MailboxError as exc:
        outcome.error = str(exc)
        logger.warning("imap trigger of workflow %s node %r: %s", entry.workflow_id,
                       entry.node_id, outcome.error)
    MailboxCursor.objects.filter(workflow_id=entry.workflow_id, node_id=entry.node_id).update(
        last_error=outcome.error or "", polled_at=timezone.now())
    return outcome


def _credential_data(entry: MailEntry) -> dict[str, Any]:
    ref = entry.config.credential
    credential = credential_usable_in(entry.project_id, ref)
    if credential is None:
        raise MailboxError(f"credential {ref!r} does not exist or is not available to this "
                           f"workflow's project")
    if credential.kind != "imap":
        raise MailboxError(f"credential {credential.name!r} is of kind {credential.kind!r}; "
                           f"this trigger needs an imap credential")
    return dict(credential.data)


def _cursor(entry: MailEntry, mailbox: str, state: MailboxState) -> MailboxCursor:
    """The trigger's cursor, created (or reset) at the mailbox's end, or at its start when
    backfilling a new trigger."""
    start = 0 if entry.config.backfill else state.uidnext - 1
    key = {"workflow_id": entry.workflow_id, "node_id": entry.node_id}
    try:
        cursor, created = MailboxCursor.objects.get_or_create(
            **key, defaults={"mailbox": mailbox, "uidvalidity": state.uidvalidity,
                             "last_uid": max(start, 0)})
    except IntegrityError:  # another poller created it at the same moment
        cursor, created = MailboxCursor.objects.get(**key), False
    if not created and (cursor.uidvalidity, cursor.mailbox) != (state.uidvalidity, mailbox):
        # The mailbox was recreated (or another one is watched): its old UIDs mean nothing.
        logger.warning("imap trigger of workflow %s node %r: mailbox %s changed (UIDVALIDITY "
                       "%s -> %s); starting from its end", entry.workflow_id, entry.node_id,
                       mailbox, cursor.uidvalidity, state.uidvalidity)
        MailboxCursor.objects.filter(pk=cursor.pk).update(
            mailbox=mailbox, uidvalidity=state.uidvalidity, last_uid=max(state.uidnext - 1, 0))
        cursor.refresh_from_db()
    return cursor


def _start_run(entry: MailEntry, uidvalidity: int, uid: int,
               message: Message | None) -> Run | None:
    """Start the run of message `uid` and move the cursor past it, in one transaction; None
    when another poller did, the message is gone, or the workflow was deactivated."""
    with transaction.atomic():
        cursor = MailboxCursor.objects.select_for_update().get(
            workflow_id=entry.workflow_id, node_id=entry.node_id)
        if cursor.uidvalidity != uidvalidity or uid <= cursor.last_uid:
            return None
        workflow = Workflow.objects.filter(pk=entry.workflow_id, is_active=True).first()
        if workflow is None:
            return None
        run = None
        if message is not None:  # None: expunged since it was listed
            run = _start_with_attachments(workflow, message, {
                "uidvalidity": uidvalidity, "node": entry.node_id})
        cursor.last_uid = uid
        cursor.save(update_fields=["last_uid", "updated_at"])
    return run



def _start_with_attachments(workflow: Workflow, message: Message,
                            extra: dict[str, Any]) -> Run:
    """The run of one message, its attachments stored as the run's files in the same
    transaction: `attachments` holds their file references; one over WFAIB_FILE_MAX_SIZE is
    not stored and is listed in `attachments_skipped` with the reason."""
    limit = int(wfaib_settings.FILE_MAX_SIZE)
    files, skipped = [], []
    for attachment in message.attachments:
        if len(attachment.data) > limit:
            skipped.append({"name": safe_name(attachment.name), "size": len(attachment.data),
                            "content_type": safe_content_type(attachment.content_type),
                            "reason": f"over the file size limit of {limit} bytes "
                                      f"(WFAIB_FILE_MAX_SIZE)"})
        else:
            files.append(NewFile("attachments", attachment.name, attachment.content_type,
                                 attachment.data))

    def build_input(refs: dict[str, list[FileRef]]) -> dict[str, Any]:
        return {**message.payload, "attachments": refs.get("attachments", []),
                "attachments_skipped": skipped, **extra}

    return run_start_with_files(workflow=workflow, files=files, trigger=Run.Trigger.IMAP,
                                key="", build_input=build_input).run
