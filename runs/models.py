"""Runs and their node-by-node logs. A RunLog of a finished node is the run's checkpoint."""

from django.db import models
from django.utils import timezone

from wfaib.nul_safe import NulSafeJSONField, NulSafeTextField


class Run(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        WAITING = "waiting"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    class Trigger(models.TextChoices):
        MANUAL = "manual"
        API = "api"
        WEBHOOK = "webhook"
        SCHEDULE = "schedule"
        CLI = "cli"
        RETRY = "retry"
        SUBWORKFLOW = "subworkflow"
        ERROR = "error"
        IMAP = "imap"
        TEST = "test"  # started from the editor: pinned data, one step, or from a node

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    workflow = models.ForeignKey("workflows.Workflow", on_delete=models.CASCADE,
                                 related_name="runs")
    version = models.ForeignKey(
        "workflows.WorkflowVersion", on_delete=models.PROTECT, related_name="runs"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.MANUAL)
    input = NulSafeJSONField(null=True, blank=True)
    result = NulSafeJSONField(null=True, blank=True)
    error = NulSafeTextField(blank=True, default="")
    error_node_id = models.CharField(max_length=100, blank=True, default="")
    # A default rather than auto_now_add, so a run created already running (or executed before
    # it is stored) can record one instant as both created_at and started_at.
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Durable execution: who holds it and whether it is alive, when a wait ends, cancellation.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    resume_at = models.DateTimeField(null=True, blank=True)
    executions = models.PositiveIntegerField(default=0)
    recoveries = models.PositiveIntegerField(default=0)  # re-queued by the watchdog
    cancel_requested = models.BooleanField(default=False)
    # A repeated webhook-id / Idempotency-Key for the same workflow returns this run.
    idempotency_key = models.CharField(max_length=200, blank=True, default="")
    # The HTTP answer a `respond` node set for a synchronous webhook caller.
    response = NulSafeJSONField(null=True, blank=True)
    parent_run = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="child_runs"
    )
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries"
    )
    depth = models.PositiveSmallIntegerField(default=0)  # sub-workflow nesting
    # The W3C trace context ({"traceparent": ...}) every execution of this run continues, so a
    # run resumed by another worker stays in one trace (wfaib/tracing.py); null: untraced.
    trace_context = NulSafeJSONField(null=True, blank=True, editable=False)
    # A test run's plan (trigger "test", runs/test_runs.py): {"mode": "workflow" | "step" |
    # "from", "node", "pinned": [ids], "reused": {id: run id}, "only": [ids] | null}; `only`
    # (step mode) limits the nodes the engine runs. Null for every other run.
    test = NulSafeJSONField(null=True, blank=True, editable=False)
    # The cost ledger's totals of this run's model calls (ModelCall rows are the detail).
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)
    cost = models.DecimalField(max_digits=16, decimal_places=8, default=0,
                               help_text="Estimated USD cost of the run's model calls.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["workflow", "-created_at"], name="run_workflow_newest"),
            models.Index(fields=["status", "-created_at"], name="run_status_newest"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="run_unique_idempotency_key",
            )
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def duration_ms(self) -> int | None:
        if self.started_at and self.finished_at:
            return int((self.finished_at - self.started_at).total_seconds() * 1000)
        return None


class RunLog(models.Model):
    class Status(models.TextChoices):
        STARTED = "started"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        SKIPPED = "skipped"
        WAITING = "waiting"

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="logs")
    node_id = models.CharField(max_length=100)
    node_type = models.CharField(max_length=50)
    status = models.CharField(max_length=16, choices=Status.choices)
    # Where inside loops the node ran ("" at top level, "loop1[3]" in an iteration).
    scope = models.CharField(max_length=200, blank=True, default="")
    # The output port(s) the node emitted on, for branching nodes; null means all.
    ports = NulSafeJSONField(null=True, blank=True)
    input = NulSafeJSONField(null=True, blank=True)
    output = NulSafeJSONField(null=True, blank=True)
    error = NulSafeTextField(blank=True, default="")
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    attempt = models.PositiveSmallIntegerField(default=1)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The attempt's model calls summed: {calls, prompt_tokens, completion_tokens,
    # cached_tokens, cost}; null when it made none (ModelCall rows hold each call).
    usage = NulSafeJSONField(null=True, blank=True)

    class Meta:
        ordering = ["run", "id"]
        indexes = [models.Index(fields=["run", "node_id"], name="runlog_run_node")]

    def __str__(self) -> str:
        return f"{self.node_id} ({self.status})"


class ModelCall(models.Model):
    """The cost ledger: one language-model call a node made, with the usage its provider
    reported and the estimated cost (runs/engine/pricing.py). The node's RunLog is the one of
    the same run, node id, scope and attempt. Workflow and project are kept for the monthly
    sums (budgets, GET /api/usage); the project is the workflow's when the call was made."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="model_calls")
    workflow = models.ForeignKey("workflows.Workflow", on_delete=models.CASCADE,
                                 related_name="+")
    project = models.ForeignKey("accounts.Project", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    node_id = models.CharField(max_length=100)
    scope = models.CharField(max_length=200, blank=True, default="")
    attempt = models.PositiveSmallIntegerField(default=1)
    provider = models.CharField(max_length=32)
    model = models.CharField(max_length=200)
    prompt_tokens = models.PositiveIntegerField(default=0)  # including cached_tokens
    completion_tokens = models.PositiveIntegerField(default=0)
    cached_tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=16, decimal_places=8, null=True, blank=True,
                               help_text="Estimated USD; empty when the model has no price.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["workflow", "created_at"], name="modelcall_workflow_time"),
            models.Index(fields=["project", "created_at"], name="modelcall_project_time"),
            models.Index(fields=["created_at"], name="modelcall_time"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}/{self.model}: {self.prompt_tokens}+{self.completion_tokens}"


class ScheduleFire(models.Model):
    """A due time of a `schedule` trigger that fired. Unique per (workflow, node, due time), so
    however many schedulers run, each due time starts one run."""

    workflow = models.ForeignKey("workflows.Workflow", on_delete=models.CASCADE, related_name="+")
    node_id = models.CharField(max_length=100)
    due_at = models.DateTimeField()
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    fired_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workflow", "node_id", "due_at"],
                                    name="schedulefire_once_per_due_time")
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id}/{self.node_id} @ {self.due_at.isoformat()}"


class RunFile(models.Model):
    """A file a run received or made (a webhook upload, an HTTP binary response, a storage
    read), kept in the file store (`STORAGES["wfaib_files"]`, runs/files.py) under `key`.
    Nodes pass it around as a reference `{name, size, content_type, key}`; it goes with its
    run (its stored bytes too: runs/files.py deletes them after the row's delete commits)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=255)
    key = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["run", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.size} bytes)"


class MailboxCursor(models.Model):
    """Where an `imap` trigger is in its mailbox: the mailbox's UIDVALIDITY and the last UID
    that started a run. The row is locked while a message's run is created and moved in the
    same transaction, so each message starts one run however many pollers run."""

    workflow = models.ForeignKey("workflows.Workflow", on_delete=models.CASCADE, related_name="+")
    node_id = models.CharField(max_length=100)
    mailbox = models.CharField(max_length=500)
    uidvalidity = models.BigIntegerField()
    last_uid = models.BigIntegerField(default=0)
    last_error = NulSafeTextField(blank=True, default="")
    polled_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workflow", "node_id"],
                                    name="mailboxcursor_one_per_trigger")
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id}/{self.node_id} {self.mailbox} @ {self.last_uid}"
