"""Conversation memory: the messages of a session, kept in the database for the project.

    memory = ProjectMemory(project_id)
    memory.append("user-42", [{"role": "user", "content": "Hi"}])
    memory.load("user-42", window=20, max_tokens=2000)   # the last messages, oldest first
    memory.clear("user-42")                               # how many were deleted

`window` keeps the last N messages; `max_tokens` then drops the oldest until the estimate
(about 4 characters a token) fits. A session id is at most 255 characters.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from nodes.base import NodeError

from .models import ConversationMessage

ROLES = ("user", "assistant", "system")
MAX_SESSION = 255


def estimate_tokens(text: str) -> int:
    return len(text) // 4 + 4


def _session(session_id: Any) -> str:
    text = "" if session_id is None else str(session_id)
    if not text.strip():
        raise NodeError("memory: the session id is empty")
    if len(text) > MAX_SESSION:
        raise NodeError(f"memory: the session id is longer than {MAX_SESSION} characters")
    return text


class ProjectMemory:
    def __init__(self, project_id: int):
        self.project_id = project_id

    def load(self, session_id: str, *, window: int = 20,
             max_tokens: int | None = None) -> list[dict[str, str]]:
        rows = list(ConversationMessage.objects.filter(
            project_id=self.project_id, session_id=_session(session_id))
            .order_by("-id").values("role", "content")[:window])
        rows.reverse()
        if max_tokens is not None:
            while rows and sum(estimate_tokens(r["content"]) for r in rows) > max_tokens:
                rows.pop(0)
        return [{"role": r["role"], "content": r["content"]} for r in rows]

    def append(self, session_id: str, messages: list[dict[str, Any]]) -> int:
        session = _session(session_id)
        rows = []
        for i, message in enumerate(messages):
            role = message.get("role") if isinstance(message, dict) else None
            if role not in ROLES or not isinstance(message.get("content"), str):
                raise NodeError(f"memory: message [{i}] must be {{role: user|assistant|system, "
                                f"content: text}}")
            rows.append(ConversationMessage(project_id=self.project_id, session_id=session,
                                            role=role, content=message["content"]))
        with transaction.atomic():
            ConversationMessage.objects.bulk_create(rows)
        return len(rows)

    def clear(self, session_id: str) -> int:
        deleted, _ = ConversationMessage.objects.filter(
            project_id=self.project_id, session_id=_session(session_id)).delete()
        return deleted
