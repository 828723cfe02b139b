"""Conversation memory for a node that works in its own timeout thread (the llm node): the
engine reads and writes the database in the run's thread, the node sees a buffer.

    buffer = prefetch(cls, config, project_id)   # before the attempt, in the run's thread
    ...                                          # the node: ctx.memory.load / append
    buffer.flush()                               # after a successful attempt, same thread

A node type names the config field holding its memory settings (`NodeType.memory_field`:
an object with `session_id`, `window`, `max_tokens`, or None for no memory). The buffer
serves exactly that session's history and keeps what the node appends; a failed or timed-out
attempt writes nothing (so a retry does not store a turn twice), and a thread abandoned
after its timeout never reaches the database.
"""

from __future__ import annotations

import threading
from typing import Any

from nodes.base import NodeError, NodeType


class MemoryBuffer:
    def __init__(self, project_id: int, session_id: str, window: int, max_tokens: int | None,
                 history: list[dict[str, str]]):
        self.project_id = project_id
        self.session_id, self.window, self.max_tokens = session_id, window, max_tokens
        self.history = history
        self.appended: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def _same(self, session_id: str) -> None:
        if str(session_id) != self.session_id:
            raise NodeError("memory: this node reaches only the session of its memory setting")

    def load(self, session_id: str, *, window: int = 20,
             max_tokens: int | None = None) -> list[dict[str, str]]:
        self._same(session_id)
        if (window, max_tokens) != (self.window, self.max_tokens):
            raise NodeError("memory: the history was loaded with the node's window and "
                            "max_tokens; load it with those")
        return [dict(m) for m in self.history]

    def append(self, session_id: str, messages: list[dict[str, Any]]) -> int:
        self._same(session_id)
        with self._lock:
            self.appended.extend(dict(m) for m in messages)
        return len(messages)

    def clear(self, session_id: str) -> int:
        raise NodeError("memory: clearing a session needs the memory node (operation clear)")

    def flush(self) -> int:
        """Store what the node appended (the run's thread, after a successful attempt)."""
        from ai.memory import ProjectMemory

        with self._lock:
            messages, self.appended = self.appended, []
        if not messages:
            return 0
        return ProjectMemory(self.project_id).append(self.session_id, messages)


def settings_of(cls: type[NodeType], config: Any) -> Any:
    """The node's memory settings in its rendered config (None: no memory)."""
    return getattr(config, cls.memory_field, None) if cls.memory_field else None


def prefetch(cls: type[NodeType], config: Any, project_id: int | None, *,
             threaded: bool) -> MemoryBuffer | None:
    """The buffer for this attempt, its history read now (None: the node uses no memory)."""
    settings = settings_of(cls, config)
    if settings is None:
        return None
    if project_id is None:
        raise NodeError("conversation memory belongs to a project: it is only available in "
                        "a run")
    if threaded:  # a parallel loop's iteration thread may not read the database
        raise NodeError("conversation memory is not available in a parallel loop iteration")
    from ai.memory import ProjectMemory

    session = str(settings.session_id)
    history = ProjectMemory(project_id).load(session, window=settings.window,
                                             max_tokens=settings.max_tokens)
    return MemoryBuffer(project_id, session, settings.window, settings.max_tokens, history)
