"""The stores a `storage` node works in (`ctx.object_store`): a local folder confined to its
root, or an S3-compatible bucket through boto3.

    store = object_store("local", root="invoices")           # under WFAIB_STORAGE_ROOT
    store = object_store("s3", credential=ctx.credential(ref, kinds=("s3",)))
    data, content_type = store.read("2026/march.pdf")

Keys are relative paths of at most 1024 bytes: no leading "/", no "." or ".." segment, no
backslash or control character (refused before anything is touched, for S3 too). A local
store also resolves every path (symlinks included) and refuses one that lands outside its
root, and opens files without following a final symlink. The S3 endpoint goes through the
outbound-address guard (runs/engine/outbound.py: WFAIB_HTTP_ALLOW) before the client is made;
boto3 connects by itself, so a host that resolves differently later is not re-checked.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import os
import re
from pathlib import Path
from typing import Any

from nodes.base import NodeError
from nodes.context import Credential, ObjectStore, StoredObject
from wfaib.conf import wfaib_settings
from wfaib.masking import mask_text

from . import outbound

MAX_KEY = 1024
_BAD = re.compile(r"[\x00-\x1f\x7f\\]")


def check_key(key: str, *, what: str = "key", empty: bool = False) -> str:
    """The key, or NodeError naming why it is refused."""
    if not isinstance(key, str):
        raise NodeError(f"{what}: expected a text path, got {type(key).__name__}")
    if not key:
        if empty:
            return key
        raise NodeError(f"{what}: empty")
    if len(key.encode()) > MAX_KEY:
        raise NodeError(f"{what}: longer than {MAX_KEY} bytes")
    if key.startswith("/") or re.match(r"^[A-Za-z]:", key):
        raise NodeError(f"{what} {key!r}: an absolute path is refused; give a path relative "
                        f"to the store")
    if _BAD.search(key):
        raise NodeError(f"{what} {key!r}: backslashes and control characters are refused")
    if any(part in (".", "..") for part in key.split("/")):
        raise NodeError(f"{what} {key!r}: '.' and '..' segments are refused (the path must "
                        f"stay inside the store)")
    return key


def _guess_type(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


class LocalStore:
    """A folder confined to `root` (the operator's WFAIB_STORAGE_ROOT, or a folder in it)."""

    def __init__(self, root: str):
        base = str(wfaib_settings.STORAGE_ROOT or "")
        if not base:
            raise NodeError("local storage is off: the operator has not set WFAIB_STORAGE_ROOT")
        check_key(root, what="root", empty=True)
        self.base = Path(base).resolve()
        self.root = (self.base / root).resolve() if root else self.base
        if not self._inside(self.root, self.base):
            raise NodeError(f"root {root!r} leaves the storage folder")

    @staticmethod
    def _inside(path: Path, root: Path) -> bool:
        return path == root or root in path.parents

    def _path(self, key: str, *, what: str = "key", empty: bool = False) -> Path:
        check_key(key, what=what, empty=empty)
        path = (self.root / key).resolve()
        if not self._inside(path, self.root):
            raise NodeError(f"{what} {key!r} leads outside the storage root (a symlink?)")
        return path

    def read(self, key: str) -> tuple[bytes, str]:
        path = self._path(key)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            raise NodeError(f"no file {key!r} in the storage folder") from None
        except (IsADirectoryError, OSError) as exc:
            raise NodeError(f"cannot read {key!r}: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as handle:
            limit = int(wfaib_settings.FILE_MAX_SIZE)
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise NodeError(f"{key!r} is over the limit of {limit} bytes (WFAIB_FILE_MAX_SIZE)")
        return data, _guess_type(key)

    def write(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path(key)  # again, now that the folders exist
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
        try:
            fd = os.open(path, flags, 0o640)
        except OSError as exc:
            raise NodeError(f"cannot write {key!r}: {exc.strerror}") from None
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)

    def list(self, prefix: str, limit: int) -> tuple[list[StoredObject], bool]:
        start = self._path(prefix.rstrip("/"), what="prefix", empty=True)
        found: list[StoredObject] = []
        if not start.is_dir():
            return found, False
        for folder, dirs, files in os.walk(start):  # os.walk does not follow symlinked dirs
            dirs.sort()
            for name in sorted(files):
                path = Path(folder) / name
                if path.is_symlink():
                    continue
                if len(found) >= limit:
                    return found, True
                stat = path.stat()
                found.append({"key": path.relative_to(self.root).as_posix(),
                              "size": stat.st_size,
                              "modified": dt.datetime.fromtimestamp(stat.st_mtime,
                                                                    dt.UTC).isoformat()})
        return found, False

    def delete(self, key: str) -> bool:
        path = self._path(key)
        if path.is_dir():
            raise NodeError(f"{key!r} is a folder; the storage node deletes files")
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True


class S3Store:
    """A bucket of an S3-compatible service, from an `s3` credential."""

    def __init__(self, credential: Credential):
        data = credential["data"]
        self.bucket = str(data.get("bucket") or "")
        if not self.bucket:
            raise NodeError(f"credential {credential['name']!r}: no bucket")
        endpoint = str(data.get("endpoint_url") or "") or None
        if endpoint:
            refused = outbound.refusal_for(endpoint)
            if refused:
                raise NodeError(f"endpoint_url {endpoint}: {refused}")
        import boto3  # here, not at start-up: ~25 MB in every process that never uses S3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError

        self._client_error = ClientError
        self._errors: tuple[type[Exception], ...] = (ClientError, BotoCoreError)
        self._sdk_error = BotoCoreError
        self.client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint, region_name=data.get("region") or "us-east-1",
            aws_access_key_id=data.get("access_key_id") or None,
            aws_secret_access_key=data.get("secret_access_key") or None,
            config=Config(connect_timeout=10, read_timeout=60, retries={"max_attempts": 2},
                          s3={"addressing_style": "path"}))
        self._secrets = [str(v) for v in (data.get("secret_access_key"),
                                          data.get("access_key_id")) if v]

    def _fail(self, action: str, key: str, exc: Exception) -> NodeError:
        if isinstance(exc, self._client_error):
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404", "NotFound"):
                return NodeError(f"no object {key!r} in bucket {self.bucket!r}")
            if code == "NoSuchBucket":
                return NodeError(f"no bucket {self.bucket!r}")
            message = f"{code}: {exc.response.get('Error', {}).get('Message', '')}"
        else:
            message = str(exc)
        for secret in self._secrets:  # the SDK's texts should not hold them; make sure
            message = message.replace(secret, "***")
        return NodeError(mask_text(f"S3 {action} {key!r} failed: {message}"))

    def read(self, key: str) -> tuple[bytes, str]:
        check_key(key)
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
            limit = int(wfaib_settings.FILE_MAX_SIZE)
            if int(answer.get("ContentLength") or 0) > limit:
                raise NodeError(f"{key!r} is over the limit of {limit} bytes "
                                f"(WFAIB_FILE_MAX_SIZE)")
            data = answer["Body"].read(limit + 1)
        except self._errors as exc:
            raise self._fail("read", key, exc) from None
        if len(data) > limit:
            raise NodeError(f"{key!r} is over the limit of {limit} bytes (WFAIB_FILE_MAX_SIZE)")
        return data, str(answer.get("ContentType") or _guess_type(key))

    def write(self, key: str, data: bytes, content_type: str) -> None:
        check_key(key)
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data,
                                   ContentType=content_type)
        except self._errors as exc:
            raise self._fail("write", key, exc) from None

    def list(self, prefix: str, limit: int) -> tuple[list[StoredObject], bool]:
        check_key(prefix, what="prefix", empty=True)
        try:
            answer: dict[str, Any] = self.client.list_objects_v2(
                Bucket=self.bucket, Prefix=prefix, MaxKeys=limit)
        except self._errors as exc:
            raise self._fail("list", prefix, exc) from None
        found: list[StoredObject] = [
            {"key": item["Key"], "size": int(item["Size"]),
             "modified": item["LastModified"].isoformat()}
            for item in answer.get("Contents", [])]
        return found, bool(answer.get("IsTruncated"))

    def delete(self, key: str) -> bool:
        check_key(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except self._client_error as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise self._fail("delete", key, exc) from None
        except self._sdk_error as exc:
            raise self._fail("delete", key, exc) from None
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except self._errors as exc:
            raise self._fail("delete", key, exc) from None
        return True


def object_store(backend: str, *, root: str = "",
                 credential: Credential | None = None) -> ObjectStore:
    if backend == "local":
        return LocalStore(root)
    if backend == "s3":
        if credential is None:
            raise NodeError("the s3 backend needs an `s3` credential")
        return S3Store(credential)
    raise NodeError(f"unknown storage backend {backend!r} (local or s3)")
