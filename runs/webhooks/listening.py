"""Listening for a test event: the editor's "listen" button, close to n8n's test URL.

    POST /api/workflows/<id>/listen         -> listen_start: listening for LISTEN_SECONDS
    <any allowed method> /hook/test/<id or custom path>
                                            -> the gateway's steps (token or signature
                                               included), then capture: no run starts
    GET  /api/workflows/<id>/test-event     -> listen_state: {"status": "idle" | "listening"
                                               | "captured", "event", "until", "received_at"}

The captured event is what the run's input would have been (`event.input`), with the method,
query and (safe) headers; uploaded files show as references with an empty `key` (they are not
stored: no run owns them). The state lives in the Django cache (Redis in a multi-process
deployment; the default local-memory cache only serves one process) and expires by itself.
A test call while nobody listens answers 404 `not_listening`. The test URL also reaches an
inactive workflow (its author is building it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.cache import cache
from django.utils import timezone

LISTEN_SECONDS = 120
KEEP_SECONDS = 600


def _key(workflow_id: int) -> str:
    return f"wfaib:webhook-test:{workflow_id}"


def listen_start(workflow_id: int) -> dict[str, Any]:
    until = timezone.now() + dt.timedelta(seconds=LISTEN_SECONDS)
    state = {"status": "listening", "event": None, "until": until.isoformat(),
             "received_at": None}
    cache.set(_key(workflow_id), state, LISTEN_SECONDS)
    return state


def listen_state(workflow_id: int) -> dict[str, Any]:
    return cache.get(_key(workflow_id)) or {"status": "idle", "event": None, "until": None,
                                            "received_at": None}


def capture(workflow_id: int, event: dict[str, Any]) -> bool:
    """Keep `event` if someone listens for this workflow; whether it was kept."""
    state = cache.get(_key(workflow_id))
    if not state or state.get("status") != "listening":
        return False
    cache.set(_key(workflow_id), {"status": "captured", "event": event, "until": None,
                                  "received_at": timezone.now().isoformat()}, KEEP_SECONDS)
    return True
