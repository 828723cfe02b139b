"""`storage`: read, write, list and delete files in a local folder or an S3-compatible bucket.

    backend "local"  a folder under the operator's WFAIB_STORAGE_ROOT (`root`: a folder in it)
    backend "s3"     the bucket of an `s3` credential {endpoint_url, region, bucket,
                     access_key_id, secret_access_key}

Operations and outputs:

    read    {"key", "file": {name, size, content_type, key}}   the object as a run file
    write   {"key", "size", "content_type"}   from `file` (a file reference, e.g.
            "{{ input.upload }}"), `content` (text) or `content_base64`: exactly one
    list    {"prefix", "items": [{"key", "size", "modified"}], "truncated"}
    delete  {"key", "deleted"}    deleted: false when there was nothing

Keys are paths relative to the store; absolute paths, "." and ".." segments, backslashes and
(locally) symlinks leading out of the root are refused (runs/engine/object_stores.py).
"""

import base64
import binascii
import mimetypes
import posixpath
from typing import Any, Literal

from pydantic import Field, model_validator

from ..base import NodeConfig, NodeError, NodeType, credential_field, expression_field
from ..context import Credential, NodeContext
from ..registry import register


class StorageConfig(NodeConfig):
    backend: Literal["local", "s3"] = "local"
    operation: Literal["read", "write", "list", "delete"] = "read"
    key: str = Field("", description="The file's path in the store (read, write, delete); "
                     "the folder to list (list).", json_schema_extra=expression_field())
    root: str = Field("", description="local: a folder inside WFAIB_STORAGE_ROOT to work in.")
    credential: int | str | None = Field(
        None, description="s3: the `s3` credential (endpoint, bucket, keys).",
        json_schema_extra=credential_field("s3"))
    file: Any = Field(None, description="write: a file reference to store.",
                      json_schema_extra=expression_field())
    content: str | None = Field(None, description="write: text to store (UTF-8).",
                                json_schema_extra=expression_field(format="textarea"))
    content_base64: str | None = Field(None, description="write: bytes to store, base64.",
                                       json_schema_extra=expression_field())
    content_type: str = Field("", description="write: the stored content type (default: the "
                              "file's, or from the key's extension).")
    limit: int = Field(1000, ge=1, le=10000, description="list: at most this many entries.")

    @model_validator(mode="after")
    def _consistent(self) -> "StorageConfig":
        given = [name for name in ("file", "content", "content_base64")
                 if getattr(self, name) is not None]
        if self.operation == "write" and len(given) != 1:
            raise ValueError("write needs exactly one of file, content, content_base64")
        if self.operation != "write" and given:
            raise ValueError(f"{', '.join(given)}: only for write")
        if self.operation != "list" and not self.key:
            raise ValueError(f"{self.operation} needs a key")
        if self.backend == "s3" and self.credential in (None, ""):
            raise ValueError("the s3 backend needs a credential")
        if self.backend == "s3" and self.root:
            raise ValueError("root is for the local backend (an s3 store is its bucket)")
        return self


def _guess(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


def _payload(ctx: NodeContext, config: StorageConfig) -> tuple[bytes, str]:
    """What a write stores, and its content type."""
    if config.file is not None:
        data = ctx.open_file(config.file)
        kind = config.file.get("content_type", "") if isinstance(config.file, dict) else ""
        return data, config.content_type or kind or _guess(config.key)
    if config.content is not None:
        return config.content.encode(), config.content_type or "text/plain; charset=utf-8"
    try:
        data = base64.b64decode(config.content_base64 or "", validate=True)
    except (binascii.Error, ValueError):
        raise NodeError("content_base64 is not valid base64") from None
    return data, config.content_type or _guess(config.key)


@register
class StorageNode(NodeType):
    """Files in a local folder (confined to its root) or an S3-compatible bucket."""

    type = "storage"
    label = "Storage"
    category = "data"
    description = "Reads, writes, lists or deletes files in a local folder or an S3 bucket."
    icon = "hard-drive"
    Config = StorageConfig
    timeout = 120.0

    def run(self, ctx: NodeContext, config: StorageConfig, input: Any) -> Any:
        credential: Credential | None = None
        if config.backend == "s3":
            credential = ctx.credential(config.credential or "", kinds=("s3",))
        store = ctx.object_store(config.backend, root=config.root, credential=credential)
        if config.operation == "read":
            data, content_type = store.read(config.key)
            name = posixpath.basename(config.key) or "file"
            return {"key": config.key, "file": ctx.save_file(name, data, content_type)}
        if config.operation == "write":
            data, content_type = _payload(ctx, config)
            store.write(config.key, data, content_type)
            return {"key": config.key, "size": len(data), "content_type": content_type}
        if config.operation == "list":
            items, truncated = store.list(config.key, config.limit)
            return {"prefix": config.key, "items": items, "truncated": truncated}
        return {"key": config.key, "deleted": store.delete(config.key)}
