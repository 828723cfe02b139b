"""Partial output of nodes at work (a streamed model answer), for the run viewer to poll.

    publish(run_id, node_id, scope, text)    # the node's output so far (throttled by the meter)
    clear(run_id, node_id)                   # the node ended: its RunLog holds the output now
    read(run_id, node_ids)                   # {node_id: {"text", "scope", "updated_at"}}

Kept in Django's cache, never in the database: the final text is stored once, in the node's
RunLog. With several processes (Celery workers, more than one web process) the cache must be
shared (CACHE_URL=redis://...) for the viewer to see what a worker streams.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.utils import timezone

MAX_CHARS = 100_000  # the tail of a longer text is shown
TTL = 15 * 60  # seconds: an abandoned node's partial output does not stay


def _key(run_id: int, node_id: str) -> str:
    return f"wfaib:partial:{run_id}:{node_id}"


def publish(run_id: int | None, node_id: str, scope: str, text: str) -> None:
    if run_id is None:
        return
    shown = text if len(text) <= MAX_CHARS else "…" + text[-MAX_CHARS:]
    cache.set(_key(run_id, node_id), {"text": shown, "scope": scope,
                                      "updated_at": timezone.now().isoformat()}, TTL)


def clear(run_id: int | None, node_id: str) -> None:
    if run_id is not None:
        cache.delete(_key(run_id, node_id))


def read(run_id: int, node_ids: Iterable[str]) -> dict[str, Any]:
    ids = list(node_ids)
    found = cache.get_many([_key(run_id, n) for n in ids])
    return {n: found[_key(run_id, n)] for n in ids if _key(run_id, n) in found}
