"""Which HTTP bodies are files: a response body a node should keep as a run file (`ctx.save_file`)
rather than put into JSON as text.

    if is_binary(content_type):
        ref = ctx.save_file(file_name(url, headers), response.content, content_type)

Text is what a person or a JSON/XML parser reads: `text/*`, JSON and XML (also `+json`, `+xml`),
JavaScript, form data, and a body without a content type; everything else (images, PDF,
`application/octet-stream`, archives, audio, video) is binary.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from email.message import Message
from urllib.parse import unquote, urlsplit

TEXT_TYPES = frozenset({"application/json", "application/xml", "application/javascript",
                        "application/x-www-form-urlencoded", "application/graphql",
                        "application/yaml", "application/x-yaml", "application/ecmascript",
                        "application/x-ndjson", "image/svg+xml"})


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_binary(content_type: str | None) -> bool:
    kind = media_type(content_type)
    if not kind or kind.startswith("text/") or kind in TEXT_TYPES:
        return False
    return not kind.endswith(("+json", "+xml"))


def file_name(url: str, headers: Mapping[str, str]) -> str:
    """The server's Content-Disposition file name, else the URL path's last segment."""
    disposition = headers.get("content-disposition", "")
    if disposition:
        message = Message()
        message["content-disposition"] = disposition
        name = message.get_filename()
        if name:
            return name
    segment = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return re.sub(r"[\x00-\x1f]", "", segment) or "download"
