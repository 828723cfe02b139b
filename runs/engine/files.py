"""The file store as the nodes of one run reach it: `ctx.save_file` / `ctx.open_file`.

Files are saved as the run's own (runs/files.py) and opened only when they belong to a run of
the same project. A node working in its own timeout thread gets a connection of its own, which
is closed when the call ends, as the credential lookup does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection

from nodes.base import NodeError
from nodes.context import FileRef

from ..files import FileTooLarge, FileUnavailable, file_open, file_save


class RunFileAccess:
    def __init__(self, run_id: Callable[[], int | None], project_id: int | None):
        self._run_id = run_id  # read when saving: a run executed before it is stored has none
        self.project_id = project_id
        self._owner = threading.get_ident()

    def _closing[T](self, call: Callable[[], T]) -> T:
        try:
            return call()
        finally:
            if threading.get_ident() != self._owner:
                connection.close()

    def save(self, name: str, data: bytes, content_type: str) -> FileRef:
        if not isinstance(data, bytes | bytearray):
            raise NodeError(f"save_file: data must be bytes, not {type(data).__name__}")
        run_id = self._run_id()
        if run_id is None:
            raise NodeError("files can only be saved by a stored run (this run executes "
                            "before it is stored: give the workflow a non-pure node first)")
        try:
            return self._closing(lambda: file_save(run_id=run_id, name=name, data=bytes(data),
                                                   content_type=content_type))
        except FileTooLarge as exc:
            raise NodeError(str(exc)) from None

    def open(self, ref: Any) -> bytes:
        try:
            return self._closing(lambda: file_open(ref, project_id=self.project_id))
        except FileUnavailable as exc:
            raise NodeError(str(exc)) from None
