"""Workflows and their immutable saved versions."""

from django.conf import settings
from django.db import models

from .fields import SealedJSONField
from .tags import validate_tags
from .webhook_paths import validate_webhook_path


class Folder(models.Model):
    """A folder of a project's workflow list (n8n's folders). Folders nest (`parent`); a name
    is unique among its siblings. A folder that holds workflows or subfolders is not deleted
    (workflows/folders.py refuses it with 409 `folder_not_empty`); deleting the project
    deletes its folders with its workflows."""

    project = models.ForeignKey("accounts.Project", on_delete=models.CASCADE,
                                related_name="folders")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.RESTRICT,
                               related_name="children")
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "parent", "name"],
                                    name="folder_unique_name"),
            # NULL parents are distinct in a unique index: top-level names need their own.
            models.UniqueConstraint(fields=["project", "name"],
                                    condition=models.Q(parent__isnull=True),
                                    name="folder_unique_top_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Workflow(models.Model):
    """A named graph of nodes in one project (`owner` is who created it). `definition` is the
    current WorkflowDefinition ({name, nodes, edges}); `version` is the number of its latest
    WorkflowVersion."""

    # Who created it. Deleting that user leaves the workflow to its project.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="workflows"
    )
    project = models.ForeignKey("accounts.Project", on_delete=models.CASCADE,
                                related_name="workflows")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    # Node-config secrets are encrypted in the column ({"$encrypted": ...}), plain in Python.
    definition = SealedJSONField(default=dict)
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=0, editable=False)

    class WebhookAuth(models.TextChoices):
        NONE = "none"
        TOKEN = "token", "secret token header"
        HMAC = "hmac", "HMAC signature (Standard Webhooks)"

    class WebhookMode(models.TextChoices):
        SYNC = "sync", "wait for the run and answer with its result"
        ASYNC = "async", "answer 202 at once"

    webhook_auth = models.CharField(max_length=8, choices=WebhookAuth.choices,
                                    default=WebhookAuth.NONE)
    webhook_mode = models.CharField(max_length=8, choices=WebhookMode.choices,
                                    default=WebhookMode.SYNC)
    webhook_secret = models.CharField(max_length=200, blank=True, default="")
    webhook_previous_secret = models.CharField(max_length=200, blank=True, default="")
    webhook_secret_rotated_at = models.DateTimeField(null=True, blank=True)
    # An optional custom webhook path, `/hook/<webhook_path>`, beside `/api/webhook/<id>`:
    # unique in the installation (workflows/webhook_paths.py checks its shape).
    webhook_path = models.SlugField(max_length=64, null=True, blank=True, unique=True,
                                    default=None, validators=[validate_webhook_path])
    # At most this many runs at once (null: no limit); extra runs wait queued, in order.
    max_concurrency = models.PositiveIntegerField(null=True, blank=True)
    # Started with the failed run's details whenever a run of this workflow fails.
    error_workflow = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Run retention for this workflow; null: the deployment's WFAIB_RUN_RETENTION_DAYS /
    # WFAIB_RUN_RETENTION_MAX_RUNS; 0: keep (no age limit / no count cap). runs/retention.py
    retention_days = models.PositiveIntegerField(null=True, blank=True)
    retention_max_runs = models.PositiveIntegerField(null=True, blank=True)
    # Monthly budgets of model calls (null: none); a call that would pass one is refused
    # before it is made, and an audit event warns at 80 % (runs/engine/budgets.py).
    monthly_token_budget = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Most model tokens (prompt + completion) a month.")
    monthly_cost_budget = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True,
        help_text="Most estimated USD of model calls a month.")
    # Test data pinned in the editor, by node id: {"value", "port", "by", "at"}. Editor
    # state, not part of the definition nor of any version: only test runs started from the
    # editor read it (workflows/pins.py, runs/test_runs.py); production runs never do.
    pinned = models.JSONField(default=dict, blank=True, editable=False)
    # The folder of the workflow list it sits in (null: the project's top level); always a
    # folder of the same project (workflows/folders.py).
    folder = models.ForeignKey(Folder, null=True, blank=True, on_delete=models.RESTRICT,
                               related_name="workflows")
    # Free labels the workflow list filters by (workflows/tags.py).
    tags = models.JSONField(default=list, blank=True, validators=[validate_tags])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["owner", "-updated_at"], name="wf_owner_updated"),
                   models.Index(fields=["project", "-updated_at"], name="wf_project_updated")]

    def __str__(self) -> str:
        return self.name


class WorkflowVersion(models.Model):
    """An immutable snapshot of a saved definition. Runs pin the version they ran."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = SealedJSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["workflow", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "number"], name="wfversion_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id} v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("A WorkflowVersion is immutable once saved.")
        super().save(*args, **kwargs)


class Credential(models.Model):
    """A named secret (API key, header, basic auth) of one project that nodes use through
    `ctx`; `owner` is who created it. `shared_with` projects may use it in their nodes but
    never read or change it.

    `data` is stored encrypted (workflows.crypto) and is write-only in the API: it is never
    returned, logged or serialized back."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
        related_name="credentials"
    )
    project = models.ForeignKey("accounts.Project", on_delete=models.CASCADE,
                                related_name="credentials")
    shared_with = models.ManyToManyField("accounts.Project", blank=True,
                                         related_name="shared_credentials")
    name = models.CharField(max_length=100)
    # One of workflows.credential_kinds.KINDS ("smtp", "oauth2", ...); free text kinds from
    # before they were typed are kept and keep working unvalidated.
    kind = models.CharField(max_length=50)
    encrypted_data = models.TextField(blank=True, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="credential_unique_name")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def data(self) -> dict:
        from .crypto import decrypt_json

        return decrypt_json(self.encrypted_data)

    @data.setter
    def data(self, value: dict) -> None:
        from .crypto import encrypt_json

        self.encrypted_data = encrypt_json(value)


class Variable(models.Model):
    """A project-level key/value that expressions read as `vars.<key>` (n8n's variables).
    Values are plain text and NOT secret: they are shown in the API, the admin, run inputs
    and logs; secrets belong in credentials."""

    project = models.ForeignKey("accounts.Project", on_delete=models.CASCADE,
                                related_name="variables")
    key = models.CharField(max_length=64)
    value = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "key"], name="variable_unique_key")
        ]

    def __str__(self) -> str:
        return self.key
