"""The run file store: files a run received or made, kept beside it, referenced in JSON.

A node never carries a file's bytes in its output: it carries a reference
`{"name", "size", "content_type", "key"}` (`nodes.context.FileRef`). The bytes live in the
Django storage `STORAGES["wfaib_files"]` (a folder under MEDIA_ROOT by default, S3 through
django-storages; wfaib/settings.py) under `key`, and a `RunFile` row ties them to their run.

    ref = file_save(run_id=run.pk, name="report.pdf", data=b"...", content_type="application/pdf")
    data = file_open(ref, project_id=run.workflow.project_id)   # bytes, or FileUnavailable

- The key is made here (`<run id>/<random hex>`), never from a caller's name, so a file name
  cannot reach outside the store; the name is metadata (sanitised) for the download.
- A reference opens only within the project of the run that owns the file: a key copied from
  another project's run is refused like a missing one.
- A file goes with its run. Run deletes cascade to RunFile rows (also a queryset delete, as
  the retention pruning does: the post_delete receiver below makes Django's collector load
  the rows instead of fast-deleting them), and the stored bytes are deleted once that delete
  has committed (`transaction.on_commit`), so a rolled-back delete loses nothing.
  `run_files_purge(run_ids)` deletes the files of runs before a caller removes the runs in a
  way that bypasses the ORM (raw SQL).
"""

from __future__ import annotations

import logging
import re
import unicodedata
import uuid
from collections.abc import Iterable
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db import transaction
from django.db.models.signals import post_delete

from nodes.context import FileRef
from wfaib.conf import wfaib_settings

from .models import RunFile

logger = logging.getLogger("wfaib.files")

STORAGE_ALIAS = "wfaib_files"
REF_KEYS = frozenset({"name", "size", "content_type", "key"})
_CONTENT_TYPE = re.compile(r"^[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*$")
_KEY = re.compile(r"^\d+/[0-9a-f]{32}$")
DEFAULT_TYPE = "application/octet-stream"


class FileTooLarge(ValueError):
    """The file is over WFAIB_FILE_MAX_SIZE."""

    def __init__(self, name: str, size: int, limit: int):
        super().__init__(f"the file {name!r} has {size} bytes, over the limit of {limit} bytes "
                         f"(WFAIB_FILE_MAX_SIZE)")


class FileUnavailable(LookupError):
    """No such file for this project (never stored, deleted with its run, or another
    project's)."""


def file_storage() -> Storage:
    return storages[STORAGE_ALIAS]


def safe_name(name: Any) -> str:
    """A file name fit for metadata and a download: the last path segment, no control
    characters, no leading dots, at most 200 characters; "file" when nothing is left."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip()
    text = text.lstrip(".").strip()
    return text[:200] or "file"


def safe_content_type(content_type: Any) -> str:
    text = str(content_type or "").split(";", 1)[0].strip().lower()
    return text if _CONTENT_TYPE.match(text) and len(text) <= 255 else DEFAULT_TYPE


def is_file_ref(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == REF_KEYS and isinstance(value["key"], str)


def as_ref(row: RunFile) -> FileRef:
    return {"name": row.name, "size": row.size, "content_type": row.content_type,
            "key": row.key}


def check_size(name: str, size: int) -> None:
    limit = int(wfaib_settings.FILE_MAX_SIZE)
    if size > limit:
        raise FileTooLarge(name, size, limit)


def file_save(*, run_id: int, name: Any, data: bytes, content_type: Any) -> FileRef:
    """Store `data` as a file of the run; its reference. FileTooLarge over the limit."""
    clean = safe_name(name)
    check_size(clean, len(data))
    storage = file_storage()
    key = storage.save(f"{run_id}/{uuid.uuid4().hex}", ContentFile(data))
    try:
        row = RunFile.objects.create(run_id=run_id, name=clean, size=len(data),
                                     content_type=safe_content_type(content_type), key=key)
    except Exception:
        storage.delete(key)  # no row, no file
        raise
    return as_ref(row)


def find_file(ref: Any, *, project_id: int | None) -> RunFile:
    """The RunFile a reference names, if it belongs to a run of `project_id`."""
    key = ref.get("key") if isinstance(ref, dict) else None
    if not isinstance(key, str) or not _KEY.match(key):
        raise FileUnavailable("not a file reference: expected {name, size, content_type, key} "
                              "as a webhook upload, an HTTP response or a storage read gives it")
    row = RunFile.objects.filter(key=key, run__workflow__project_id=project_id).first()
    if row is None or project_id is None:
        raise FileUnavailable(f"the file {safe_name(ref.get('name'))!r} is not available (it "
                              "was deleted with its run, or belongs to another project)")
    return row


def read_file(row: RunFile) -> bytes:
    try:
        with file_storage().open(row.key, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise FileUnavailable(f"the file {row.name!r} is missing from the file store") from None


def file_open(ref: Any, *, project_id: int | None) -> bytes:
    """The bytes of a referenced file of this project's runs (FileUnavailable otherwise)."""
    return read_file(find_file(ref, project_id=project_id))


def delete_stored(keys: list[str]) -> None:
    storage = file_storage()
    for key in keys:
        try:
            storage.delete(key)
        except Exception:  # a leftover blob is not worth failing a delete for
            logger.warning("could not delete run file %s from the file store", key,
                           exc_info=True)


def _on_run_file_deleted(sender: type[RunFile], instance: RunFile, **kwargs: Any) -> None:
    """The stored bytes go once the row's delete commits (kept if it rolls back)."""
    key = instance.key
    transaction.on_commit(lambda: delete_stored([key]))


def run_files_purge(run_ids: Iterable[int]) -> int:
    """Delete the files of these runs (rows now, stored bytes on commit); how many. For a
    caller about to remove runs without the ORM's cascade."""
    deleted, _ = RunFile.objects.filter(run_id__in=list(run_ids)).delete()
    return deleted


def connect() -> None:
    """Called once from runs.apps.RunsConfig.ready."""
    post_delete.connect(_on_run_file_deleted, sender=RunFile,
                        dispatch_uid="wfaib.runs.files.delete_stored")
