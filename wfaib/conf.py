"""WFAIB's own settings: every key declared once here, with its type, default and meaning.

DRF's `api_settings` is the model. `wfaib/settings.py` fills `settings.WFAIB` from the
environment (`WFAIB_<KEY>`) through `from_env`, and code reads a value as an attribute:

    from wfaib.conf import wfaib_settings
    wfaib_settings.HTTP_ALLOW          # the configured value, or the one default below

A value is read from `settings.WFAIB` once and then kept (the hot path reads dozens per request,
and each read of Django's lazy settings object costs about a microsecond); Django's
`setting_changed` signal, which `override_settings` and pytest-django's `settings` fixture send,
drops the kept values, as DRF's `api_settings` does. `.env.example` lists every key (a test
checks it).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed


@dataclass(frozen=True)
class Setting:
    name: str
    cast: str  # the django-environ reader: str, int, float, bool, list, json
    default: Any
    help: str

    @property
    def env_var(self) -> str:
        return f"WFAIB_{self.name}"


DECLARED: tuple[Setting, ...] = (
    Setting("EXECUTOR", "str", "inline",
            "inline: a bounded thread pool in the web process; celery: Celery workers"),
    Setting("INLINE_WORKERS", "int", 8, "threads of the inline executor"),
    Setting("GROUP_COMMIT", "bool", True,
            "store the finished runs of concurrent synchronous webhooks, and the queued "
            "runs webhooks accept, together, one "
            "transaction per batch (accepted runs: one INSERT committed by itself; on "
            "PostgreSQL, runs with their logs: one statement), by "
            "one writer thread per process (runs/engine/"
            "group_writer.py); 0 = each request thread writes its own"),
    Setting("GROUP_COMMIT_MAX", "int", 64, "runs one group commit stores at most"),
    Setting("CELERY_TASK_RUNS", "int", 8,
            "runs one Celery task carries at most: the runs a process hands out together "
            "go to the broker as one task per this many (1 = one task per run)"),
    Setting("CELERY_PUBLISH_INTERVAL", "float", 0.01,
            "seconds: under load, a process publishes its runs' tasks at most this often, "
            "gathering the runs accepted meanwhile into fewer tasks; a run accepted after a "
            "quiet moment goes at once (0 = every run at once)"),
    Setting("WEBHOOK_SYNC_TIMEOUT", "float", 30.0,
            "seconds a synchronous webhook waits for its run before answering 202"),
    Setting("WEBHOOK_MAX_BODY", "int", 1024 * 1024, "bytes a webhook or resume body may have"),
    Setting("WEBHOOK_MAX_INFLIGHT", "int", 32,
            "webhook requests one process serves at once (load shedding, wfaib/resilience.py)"),
    Setting("WEBHOOK_MAX_WAITING", "int", 64,
            "more webhook requests that may wait for a place; beyond: 503 overloaded"),
    Setting("WEBHOOK_QUEUE_WAIT", "float", 5.0, "seconds a waiting webhook request may wait"),
    Setting("WEBHOOK_LOOKUP_CACHE", "float", 2.0,
            "seconds a web process keeps a webhook's workflow row (dropped at once in the "
            "process that saves or deletes it; other processes see a change within this); 0 = "
            "read it per request"),
    Setting("WEBHOOK_RATE_WINDOW", "int", 60, "seconds of the webhook rate-limit window"),
    Setting("WEBHOOK_RATE_PER_WORKFLOW", "int", 6000,
            "webhook requests per window per workflow; 0 = no limit"),
    Setting("WEBHOOK_RATE_PER_CLIENT", "int", 3000,
            "webhook requests per window per client address; 0 = no limit"),
    Setting("TRUST_X_FORWARDED_FOR", "bool", False,
            "1 only behind a proxy that sets X-Forwarded-For (client address = its last hop)"),
    Setting("WEBHOOK_SECRET_GRACE", "int", 24 * 3600,
            "seconds the previous webhook secret keeps working after a rotation"),
    Setting("CREDENTIAL_KEYS", "list", [],
            "Fernet keys for credentials at rest, newest first; empty: derived from SECRET_KEY"),
    Setting("CREDENTIAL_ENV_PREFIX", "str", "WFAIB_SECRET_",
            "a credential field {\"$env\": NAME} may only name environment variables starting "
            "with this (others hold the server's own secrets)"),
    Setting("VAULT_URL", "str", "",
            "HashiCorp Vault address for credential fields {\"$vault\": \"mount/path#key\"} "
            "(KV v2); empty: Vault references fail"),
    Setting("VAULT_TOKEN", "str", "", "the Vault token WFAIB reads credential values with"),
    Setting("HTTP_ALLOW", "list", [],
            "hosts (every port), host:port entries or CIDRs outbound HTTP may reach although "
            "they are internal"),
    Setting("SQLITE_DIRS", "list", [],
            "folders whose SQLite files the database node may open (sqlite:/// credentials); "
            "empty: none"),
    Setting("HTTP_MAX_REDIRECTS", "int", 5, "redirects an outbound request follows at most"),
    Setting("BASE_URL", "str", "http://127.0.0.1:8000",
            "where this server is reachable (resume URLs, the demo workflow)"),
    Setting("WEBHOOK_BASE_URL", "str", "",
            "webhooks on an origin of their own: the base of the webhook and resume URLs shown"),
    Setting("WEBHOOK_HOSTS", "list", [],
            "host names that serve only webhook, resume and health paths "
            "(wfaib/webhook_origin.py)"),
    Setting("EXPRESSION_TIMEOUT", "float", 2.0, "seconds one expression may evaluate"),
    Setting("CODE_TIMEOUT", "float", 5.0, "seconds a code node may run"),
    Setting("CODE_MEMORY_MB", "int", 256, "address-space limit of a code worker process"),
    Setting("CODE_JS_MEMORY_MB", "int", 128,
            "V8 heap limit of a JavaScript code node (its worker's data limit is twice this)"),
    Setting("CODE_WORKERS", "int", 2, "code worker processes"),
    Setting("TENANT_MAX_RUNNING", "int", 0,
            "runs of one project running at once (0 = no cap; the rest wait queued)"),
    Setting("TENANT_CODE_WORKERS", "int", 0,
            "code workers one project may hold at once (0 = all but one)"),
    Setting("MAX_NODE_TIMEOUT", "float", 300.0,
            "the longest timeout any node may use, whatever its settings say (0 = no cap)"),
    Setting("SANDBOX_USER", "str", "nobody",
            "the unprivileged user code workers drop to when the server runs as root"),
    Setting("LOG_MAX_BYTES", "int", 256 * 1024,
            "node inputs/outputs bigger than this (bytes of JSON) are truncated in run logs"),
    Setting("PIN_MAX_BYTES", "int", 1024 * 1024,
            "bytes of JSON one node's pinned test data may have (the editor's Pin output)"),
    Setting("RETRY_PARK_AFTER", "float", 10.0,
            "a retry delay of at least this many seconds parks the run instead of sleeping"),
    Setting("MAX_SUBWORKFLOW_DEPTH", "int", 10, "how deep sub-workflows may nest"),
    Setting("MAX_LOOP_ITEMS", "int", 100_000, "items one loop node may iterate over"),
    Setting("HEARTBEAT_INTERVAL", "float", 5.0, "seconds between a running run's heartbeats"),
    Setting("HEARTBEAT_TIMEOUT", "float", 60.0,
            "a running run silent this long lost its process and is re-queued"),
    Setting("MAX_RECOVERIES", "int", 3, "re-queues of one run before it is failed"),
    Setting("WORKER_MAX_TASKS", "int", 0,
            "a Celery worker is replaced after this many tasks (0: never): a solo or threads "
            "worker ends and run_worker starts it anew; prefork replaces its pool processes"),
    Setting("REDISPATCH_AFTER", "float", 300.0,
            "queued runs no executor took within this many seconds are handed out again"),
    Setting("SCHEDULER", "str", "",
            "embedded (a thread per web process), off (manage.py run_scheduler), "
            "empty = embedded iff EXECUTOR=inline"),
    Setting("TICK_INTERVAL", "float", 1.0, "seconds between scheduler ticks"),
    Setting("API_MAX_BODY", "int", 2 * 1024 * 1024, "bytes an API request body may have"),
    Setting("FILE_MAX_SIZE", "int", 25 * 1024 * 1024,
            "bytes one run file may have (a webhook upload, an HTTP binary response, a "
            "storage read); larger: 413 for an upload, a failed node otherwise"),
    Setting("WEBHOOK_MAX_UPLOAD", "int", 50 * 1024 * 1024,
            "bytes a multipart webhook body (form fields and files) may have"),
    Setting("STORAGE_ROOT", "str", "",
            "the folder the storage node's local backend works in (empty: local storage off)"),
    Setting("JSON_MAX_DEPTH", "int", 64, "nesting depth a JSON body may have"),
    Setting("INVITATION_HOURS", "int", 72, "hours an invitation link to a project stays valid"),
    Setting("LLM_PRICES", "json", {},
            "model prices in USD per million tokens, {model: {input, output, cached_input}}, "
            "over the default table (runs/engine/pricing.py)"),
    Setting("LLM_STREAM_INTERVAL", "float", 0.5,
            "seconds between updates of a streaming model answer's partial output"),
    Setting("AUDIT_RETENTION_DAYS", "int", 365,
            "audit events older than this are pruned daily; 0 keeps all"),
    Setting("RUN_RETENTION_DAYS", "int", 30,
            "finished runs (and their logs) older than this many days are pruned; 0 keeps "
            "all; a workflow's retention_days overrides it"),
    Setting("RUN_RETENTION_MAX_RUNS", "int", 10_000,
            "finished runs kept per workflow, newest first; 0 = no cap; a workflow's "
            "retention_max_runs overrides it"),
    Setting("RUN_PRUNE_INTERVAL", "float", 3600.0,
            "seconds between the scheduler's run-pruning passes; 0 = only manage.py prune_runs"),
    Setting("LOG_FORMAT", "str", "",
            "json (one object a line) or console (readable); empty: console iff DEBUG"),
    Setting("METRICS_TOKEN", "str", "",
            "a bearer token that may read /metrics (empty, and no METRICS_ALLOW: /metrics is off)"),
    Setting("METRICS_ALLOW", "list", [],
            "client addresses or CIDRs that may read /metrics without the token"),
    Setting("METRICS_PORT", "int", 0,
            "run_worker / run_scheduler serve their metrics on this port (0 = off)"),
    Setting("RUN_PRUNE_BATCH", "int", 500,
            "runs deleted per transaction while pruning (short transactions: no long locks)"),
)
DEFAULTS: dict[str, Any] = {s.name: s.default for s in DECLARED}


def from_env(env: Any) -> dict[str, Any]:
    """Every declared key read from the environment (a django-environ `Env`)."""
    return {s.name: getattr(env, s.cast)(s.env_var, default=s.default) for s in DECLARED}


class WfaibSettings:
    """Attribute access to `settings.WFAIB` with the declared defaults; unknown keys raise.
    A value read is kept in the instance, so the next read does not come here. A value read
    by one thread while another reloads is not kept (it may be the old one)."""

    def __init__(self) -> None:
        object.__setattr__(self, "_lock", threading.Lock())
        object.__setattr__(self, "_generation", 0)

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"no WFAIB setting {name!r} (declared in wfaib/conf.py)")
        generation = self._generation
        value = getattr(settings, "WFAIB", {}).get(name, DEFAULTS[name])
        with self._lock:
            if generation == self._generation:
                self.__dict__[name] = value
        return value

    def reload(self) -> None:
        """Forget the kept values: the next reads see `settings.WFAIB` as it is now."""
        with self._lock:
            kept = [name for name in self.__dict__ if name in DEFAULTS]
            for name in kept:
                del self.__dict__[name]
            self.__dict__["_generation"] += 1


wfaib_settings = WfaibSettings()


def _reload_on_change(*, setting: str, **_: Any) -> None:
    if setting == "WFAIB":
        wfaib_settings.reload()


setting_changed.connect(_reload_on_change, dispatch_uid="wfaib.conf.reload")
