"""AuditEvent: one row per audited action. Written only by `audit.services.audit_record`,
never edited (the admin is read-only), deleted only by the retention pruning."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    """Who (`actor`, kept as `actor_repr` after the user is deleted) did what (`action`, e.g.
    "workflow.update") to which object (`object_type` "app_label.model", `object_id`,
    `object_repr`), when, from which client address (`ip`) and through which door (`via`:
    api, admin, cli, or empty for internal callers). `diff` holds the changes of an update
    (secrets masked); `extra` anything else worth keeping (trigger, retry mode, ...)."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    actor_repr = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    via = models.CharField(max_length=16, blank=True)
    diff = models.JSONField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        who = self.actor_repr or "system"
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {who} {self.action} {self.object_repr}"
