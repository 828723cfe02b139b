"""`WaitRecord`: what a waiting node's RunLog.output holds, written and read in one shape.

    log.output = WaitRecord.from_wait(wait).to_json()         # the engine, when a node waits
    record = WaitRecord.from_json(log.output)                 # anyone reading it
    log.output = record.resumed_with(output=payload).to_json()  # a resume service

The JSON keys (kept as they were, so waits saved by an older version still resume, and the
resume services can find a wait with `output__token=` / `output__child_run=`):

    resume_at     ISO time the scheduler resumes the run (None: only an external call does)
    token         the resume token of a wait-for-webhook node
    output        the node's output when the wait ends (its input, or the resumed value)
    timeout_port  the port `output` goes to when the time runs out before a resume
    child_run     the sub-workflow run waited on
    resume_url    the public URL that resumes the wait
    resumed       true once a resume service handed the wait its value (or `error`)
    error         why the resumed wait failed (e.g. the sub-workflow run failed)
Any other key a node put in `Wait.extra` is kept in `extra`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from nodes.base import Wait

from .state import jsonable

_UNSET: Any = object()
_NAMED = ("child_run", "resume_url")  # Wait.extra keys with a field of their own
_FLAGS = ("resumed", "error")  # set by the resume services


@dataclass(frozen=True)
class WaitRecord:
    resume_at: dt.datetime | None = None
    token: str | None = None
    output: Any = None
    timeout_port: str | None = None
    child_run: int | None = None
    resume_url: str | None = None
    resumed: bool = False
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_wait(cls, wait: Wait) -> WaitRecord:
        extra = dict(wait.extra)
        named = {key: extra.pop(key) for key in _NAMED if key in extra}
        return cls(resume_at=wait.resume_at, token=wait.token, output=wait.output,
                   timeout_port=wait.timeout_port, extra=extra, **named)

    @classmethod
    def from_json(cls, data: Any) -> WaitRecord:
        data = dict(data) if isinstance(data, dict) else {}
        text = data.pop("resume_at", None)
        known = {key: data.pop(key) for key in
                 ("token", "output", "timeout_port", *_NAMED, *_FLAGS) if key in data}
        known["resumed"] = bool(known.get("resumed", False))
        return cls(resume_at=dt.datetime.fromisoformat(text) if text else None,
                   extra=data, **known)

    def to_json(self) -> Any:
        data: dict[str, Any] = {
            "resume_at": self.resume_at.isoformat() if self.resume_at else None,
            "token": self.token, "output": self.output, "timeout_port": self.timeout_port,
            **self.extra,
        }
        data.update({key: getattr(self, key) for key in _NAMED
                     if getattr(self, key) is not None})
        if self.resumed:
            data["resumed"] = True
        if self.error is not None:
            data["error"] = self.error
        return jsonable(data)

    def resumed_with(self, *, output: Any = _UNSET, error: str | None = None) -> WaitRecord:
        """The record as a resume service leaves it: resumed, with the value the wait ends
        with (`output`) or the `error` that fails the node."""
        changes: dict[str, Any] = {"resumed": True}
        if output is not _UNSET:
            changes["output"] = output
        if error is not None:
            changes["error"] = error
        return dataclasses.replace(self, **changes)
