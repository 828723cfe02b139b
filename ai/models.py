"""Conversation memory and vector-store items, each scoped to a project."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from wfaib.nul_safe import NulSafeJSONField, NulSafeTextField


class ConversationMessage(models.Model):
    """One message of a conversation kept between runs, keyed by a session id the workflow
    chooses (an expression, e.g. the chat's user id)."""

    project = models.ForeignKey("accounts.Project", on_delete=models.CASCADE, related_name="+")
    session_id = models.CharField(max_length=255)
    role = models.CharField(max_length=16)  # user, assistant, system
    content = NulSafeTextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["project", "session_id", "id"])]

    def __str__(self) -> str:
        return f"{self.session_id}: {self.role}"


class VectorItem(models.Model):
    """A text with its embedding in a collection of a project. The vector is kept twice: as
    JSON (portable; pgvector casts its text) and as float32 bytes (sqlite-vec's format)."""

    project = models.ForeignKey("accounts.Project", on_delete=models.CASCADE, related_name="+")
    collection = models.CharField(max_length=100)
    key = models.CharField(max_length=200)
    text = NulSafeTextField(blank=True, default="")
    metadata = NulSafeJSONField(default=dict, blank=True)
    embedding = models.JSONField()
    vector = models.BinaryField()
    dimensions = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "collection", "key"],
                                               name="ai_vector_item_key")]
        indexes = [models.Index(fields=["project", "collection"])]

    def __str__(self) -> str:
        return f"{self.collection}/{self.key}"
