"""The scheduler loop: schedule triggers, the watchdog, due waits and left-behind runs.

    Ticker().run_forever()     # `manage.py run_scheduler` (distributed set-up)
    start_embedded()           # a daemon thread inside a web process (embedded set-up)

Each tick (WFAIB["TICK_INTERVAL"], 1 s) recovers runs whose heartbeat stopped, resumes waiting
runs whose time came, re-dispatches queued runs nobody took (runs/recovery.py), and fires due
`schedule` triggers; it also hands due `imap` triggers to their poller's threads
(runs/imap_trigger.py). Everything it does is safe with several schedulers at once: a due time is
recorded as a unique ScheduleFire row in the same transaction as its run, so two schedulers (or
two web processes) fire it once.

Missed times (the scheduler was down, the workflow inactive): when a schedule comes back, only
its latest due time that passed is fired, once, late; earlier missed times are skipped. A
schedule fires only for due times at or after the moment the workflow version holding it was
saved. Interval schedules are aligned to the Unix epoch (every 300 s = :00, :05, …).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from dataclasses import dataclass

from django.db import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    transaction,
)
from django.db.models import Max
from django.utils import timezone
from pydantic import ValidationError

from audit.services import audit_prune_if_due
from nodes.types.schedule import ScheduleConfig
from wfaib.conf import wfaib_settings
from workflows.models import Workflow, WorkflowVersion

from . import dispatch, recovery
from .imap_trigger import MailPoller
from .models import Run, ScheduleFire
from .services import run_start

logger = logging.getLogger("wfaib.scheduler")

FIRE_HISTORY = dt.timedelta(days=7)  # ScheduleFire rows older than this are pruned


@dataclass
class ScheduleEntry:
    workflow_id: int
    node_id: str
    config: ScheduleConfig
    since: dt.datetime  # when the workflow version holding this schedule was saved
    last_due: dt.datetime | None = None  # latest due time fired (by any scheduler)
    loaded: bool = False


class Scheduler:
    """Fires `schedule` triggers of active workflows. Keeps the parsed schedules in memory and
    re-reads a workflow's definition only when its version changes."""

    def __init__(self) -> None:
        self._versions: dict[int, int] = {}
        self._entries: dict[int, list[ScheduleEntry]] = {}

    def refresh(self) -> None:
        current = dict(Workflow.objects.filter(is_active=True).values_list("id", "version"))
        for gone in set(self._versions) - set(current):
            self._versions.pop(gone)
            self._entries.pop(gone, None)
        changed = {wid: v for wid, v in current.items() if self._versions.get(wid) != v}
        if not changed:
            return
        versions = WorkflowVersion.objects.filter(workflow_id__in=list(changed)).filter(
            number__in=set(changed.values())
        ).values_list("workflow_id", "number", "definition", "created_at")
        for wid, number, definition, created_at in versions:
            if changed.get(wid) != number:
                continue
            self._versions[wid] = number
            self._entries[wid] = self._parse(wid, definition, created_at)

    @staticmethod
    def _parse(wid: int, definition: dict, since: dt.datetime) -> list[ScheduleEntry]:
        entries = []
        for node in (definition or {}).get("nodes", []):
            if not isinstance(node, dict) or node.get("type") != "schedule":
                continue
            try:
                config = ScheduleConfig.model_validate(node.get("config") or {})
            except ValidationError as exc:  # saved definitions are validated; be safe anyway
                logger.error("workflow %s node %s: bad schedule: %s", wid, node.get("id"), exc)
                continue
            entries.append(ScheduleEntry(wid, str(node["id"]), config, since))
        return entries

    def due(self, now: dt.datetime) -> list[tuple[ScheduleEntry, dt.datetime]]:
        found = []
        for entries in self._entries.values():
            for entry in entries:
                due_at = entry.config.latest_due(now)
                if due_at < entry.since:
                    continue
                if not entry.loaded:
                    entry.last_due = ScheduleFire.objects.filter(
                        workflow_id=entry.workflow_id, node_id=entry.node_id
                    ).aggregate(last=Max("due_at"))["last"]
                    entry.loaded = True
                if entry.last_due is None or due_at > entry.last_due:
                    found.append((entry, due_at))
        return found

    def fire(self, entry: ScheduleEntry, due_at: dt.datetime, now: dt.datetime) -> Run | None:
        """Start the run for one due time, unless another scheduler already did."""
        workflow = Workflow.objects.filter(pk=entry.workflow_id, is_active=True).first()
        if workflow is None:
            return None
        payload = {"scheduled_at": due_at.isoformat(), "fired_at": now.isoformat(),
                   "node": entry.node_id, "timezone": entry.config.timezone}
        try:
            with transaction.atomic():
                fire = ScheduleFire.objects.create(workflow=workflow, node_id=entry.node_id,
                                                   due_at=due_at)
                run = run_start(workflow=workflow, input=payload, trigger=Run.Trigger.SCHEDULE)
                fire.run = run
                fire.save(update_fields=["run"])
                ScheduleFire.objects.filter(workflow=workflow, node_id=entry.node_id,
                                            due_at__lt=due_at - FIRE_HISTORY).delete()
        except IntegrityError:  # another scheduler fired this due time first
            entry.last_due = due_at
            return None
        entry.last_due = due_at
        return run

    def tick(self, now: dt.datetime | None = None) -> list[Run]:
        now = now or timezone.now()
        self.refresh()
        fired = []
        for entry, due_at in self.due(now):
            run = self.fire(entry, due_at, now)
            if run is not None:
                fired.append(run)
        return fired


class Ticker:
    """One scheduler loop. `tick()` does one round; `run_forever()` starts with start-up
    recovery, then ticks until `stop()`."""

    def __init__(self, interval: float | None = None) -> None:
        self.interval = interval or float(wfaib_settings.TICK_INTERVAL)
        self.scheduler = Scheduler()
        self.mail = MailPoller(background=True)  # imap triggers, polled on their own threads
        self._stop = threading.Event()
        self.outage_since: float | None = None  # monotonic time the database went away

    def tick(self, now: dt.datetime | None = None) -> None:
        now = now or timezone.now()
        # One failing step (say a database hiccup) must not starve the others. While the
        # database is down, the outage is logged once, and once more when it is back.
        steps = (recovery.run_recover_stale, recovery.run_resume_due,
                 recovery.run_redispatch_queued, self.scheduler.tick, self.mail.tick,
                 audit_prune_if_due)
        for step in steps:
            try:
                step(now=now)
            except (OperationalError, InterfaceError) as exc:
                self._database_down(exc)
                return  # the next steps would fail the same way
            except Exception:
                logger.exception("scheduler step %s failed", step.__name__)
        if self.outage_since is not None:
            logger.warning("the database is back after %.0f s; scheduler resumed",
                           time.monotonic() - self.outage_since)
            self.outage_since = None

    def _database_down(self, exc: BaseException) -> None:
        if self.outage_since is None:
            self.outage_since = time.monotonic()
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            logger.error("the database is unavailable (%s); the scheduler keeps trying every "
                         "%g s and logs again when it is back", reason, self.interval)

    def run_forever(self) -> None:
        try:
            close_old_connections()
            recovery.run_recover_on_startup()
        except (OperationalError, InterfaceError) as exc:
            self._database_down(exc)  # the watchdog and re-dispatch catch up once it is back
        except Exception:
            logger.exception("start-up recovery failed")
        while not self._stop.wait(self.interval):
            # This thread's connection may have gone stale since the last tick (not in tick():
            # a caller inside a transaction would lose it). A connection that broke during an
            # outage is dropped here too, so the next tick reconnects.
            self._drop_broken_connection()
            self.tick()
        close_old_connections()

    def stop(self) -> None:
        self._stop.set()

    @staticmethod
    def _drop_broken_connection() -> None:
        try:
            close_old_connections()
        except Exception:  # closing a dead connection can fail; forget it and reconnect
            connection.connection = None


def mode() -> str:
    """"embedded" when web processes run the scheduler loop themselves, else "off" (WFAIB_SCHEDULER,
    or the executor's default: embedded with the inline executor)."""
    return wfaib_settings.SCHEDULER or dispatch.executor().scheduler_mode


_embedded: tuple[int, Ticker] | None = None
_embedded_lock = threading.Lock()


def start_embedded() -> Ticker | None:
    """Start the scheduler loop in a daemon thread of this (web) process, once per process, when
    the embedded mode is on. Called when a server starts (runs/apps.py, wfaib/wsgi.py)."""
    global _embedded
    if mode() != "embedded":
        return None
    with _embedded_lock:
        if _embedded is not None and _embedded[0] == os.getpid():
            return _embedded[1]
        ticker = Ticker()
        threading.Thread(target=ticker.run_forever, name="wfaib-scheduler", daemon=True).start()
        _embedded = (os.getpid(), ticker)
        return ticker
