"""Webhook bodies beside JSON (runs/webhooks/body.py): form, multipart, text and XML.

    kind = body_kind(request)                 # "json", "form", "multipart", "text", "xml", ""
    value, uploads = parse_kind(kind, request, raw)

What each kind becomes (the webhook node's `accept` lists the kinds a workflow takes; JSON only
by default, so a browser's cross-site form post never starts a run unless it is allowed):

    form       application/x-www-form-urlencoded -> {field: value} (a repeated field: a list)
    multipart  multipart/form-data -> {field: value}, and its files as `Upload`s, stored by
               the gateway as run files once the run exists (the node sees file references)
    text       text/plain -> the text (UTF-8, US-ASCII or ISO-8859-1)
    xml        application/xml, text/xml, */*+xml -> a dict (xmltodict: attributes as "@name",
               text beside them as "#text"); any DTD is refused (defusedxml, forbid_dtd), so
               entity expansion ("billion laughs") and external entities never run

What is refused: 415 unsupported_media_type (a kind the workflow does not take, an unknown
charset), 413 file_too_large (one upload over WFAIB_FILE_MAX_SIZE, naming its field),
400 invalid_form / invalid_multipart / invalid_text / invalid_xml / xml_forbidden /
json_too_deep / too_many_fields (Django's DATA_UPLOAD_MAX_NUMBER_FIELDS / _FILES).
"""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.http import HttpRequest, QueryDict
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.utils.datastructures import MultiValueDict

from wfaib.conf import wfaib_settings
from wfaib.parsers import JsonTooDeep, check_depth, max_depth

from ..files import safe_content_type, safe_name
from .body import JSON_TYPES
from .rejected import WebhookRejected

KINDS = ("json", "form", "multipart", "text", "xml")
FORM, MULTIPART = "application/x-www-form-urlencoded", "multipart/form-data"
TEXT_CHARSETS = frozenset({"utf-8", "us-ascii", "iso-8859-1"})


@dataclass(frozen=True)
class Upload:
    """One uploaded file of a multipart body, read into memory (within the limits)."""

    field: str
    name: str
    content_type: str
    data: bytes


def body_kind(request: HttpRequest) -> str:
    """The kind of body the content type announces ("" for none, "other" for the rest)."""
    content_type = (request.content_type or "").lower()
    if not content_type:
        return ""
    if content_type in JSON_TYPES:
        return "json"
    if content_type == FORM:
        return "form"
    if content_type == MULTIPART:
        return "multipart"
    if content_type == "text/plain":
        return "text"
    if content_type in ("application/xml", "text/xml") or content_type.endswith("+xml"):
        return "xml"
    return "other"


def _flat(values: MultiValueDict) -> dict[str, Any]:
    return {key: (items[0] if len(items) == 1 else items)
            for key, items in values.lists()}


def parse_form(request: HttpRequest, raw: bytes) -> dict[str, Any]:
    try:
        return _flat(QueryDict(raw, encoding="utf-8"))
    except TooManyFieldsSent as exc:
        raise WebhookRejected(400, "too_many_fields", str(exc)) from None
    except ValueError as exc:
        raise WebhookRejected(400, "invalid_form", f"the form body cannot be read: {exc}") from None


def _check_uploads(files: MultiValueDict) -> list[Upload]:
    limit = int(wfaib_settings.FILE_MAX_SIZE)
    uploads = []
    for field, items in files.lists():
        for item in items:
            if item.size > limit:
                raise WebhookRejected(413, "file_too_large",
                                      f"{field}: the file {safe_name(item.name)!r} has "
                                      f"{item.size} bytes, over the limit of {limit} bytes")
            uploads.append(Upload(field=field, name=safe_name(item.name),
                                  content_type=safe_content_type(item.content_type),
                                  data=item.read()))
            item.close()
    return uploads


def parse_multipart(request: HttpRequest, raw: bytes) -> tuple[dict[str, Any], list[Upload]]:
    """The form fields and the files of a multipart body already read (`raw`)."""
    meta = {**request.META, "CONTENT_LENGTH": str(len(raw))}
    handlers = [MemoryFileUploadHandler(request), TemporaryFileUploadHandler(request)]
    try:
        fields, files = MultiPartParser(meta, io.BytesIO(raw), handlers, "utf-8").parse()
    except (TooManyFieldsSent, TooManyFilesSent) as exc:
        raise WebhookRejected(400, "too_many_fields", str(exc)) from None
    except RequestDataTooBig:
        raise WebhookRejected(413, "body_too_large", "the form fields (without files) are "
                              "over DATA_UPLOAD_MAX_MEMORY_SIZE") from None
    except (MultiPartParserError, ValueError) as exc:
        raise WebhookRejected(400, "invalid_multipart",
                              f"the multipart body cannot be read: {exc}") from None
    return _flat(fields), _check_uploads(files)


def _charset(request: HttpRequest, default: str) -> str:
    charset = (request.content_params or {}).get("charset", default).strip().lower()
    try:
        name = codecs.lookup(charset).name
    except LookupError:
        name = charset
    normal = {"utf-8": "utf-8", "ascii": "us-ascii", "latin-1": "iso-8859-1",
              "iso8859-1": "iso-8859-1"}.get(name, name)
    if normal not in TEXT_CHARSETS:
        raise WebhookRejected(415, "unsupported_media_type",
                              f"charset {charset!r} is not read; send UTF-8")
    return normal


def parse_text(request: HttpRequest, raw: bytes) -> str:
    charset = _charset(request, "utf-8")
    try:
        return raw.decode(charset)
    except UnicodeDecodeError as exc:
        raise WebhookRejected(400, "invalid_text",
                              f"the body is not valid {charset}: {exc.reason} at byte "
                              f"{exc.start}") from None


def parse_xml(request: HttpRequest, raw: bytes) -> Any:
    """XML as a dict, after defusedxml has refused any DTD (entities, external references)."""
    import defusedxml.ElementTree  # here: most servers never receive XML
    import xmltodict
    from defusedxml import DefusedXmlException

    try:
        defusedxml.ElementTree.fromstring(raw, forbid_dtd=True, forbid_entities=True,
                                          forbid_external=True)
    except DefusedXmlException as exc:
        raise WebhookRejected(400, "xml_forbidden",
                              f"the XML body declares a DTD or entities, which are refused "
                              f"({type(exc).__name__})") from None
    except (defusedxml.ElementTree.ParseError, ValueError) as exc:
        raise WebhookRejected(400, "invalid_xml", f"the body is not valid XML: {exc}") from None
    try:
        value = xmltodict.parse(raw, disable_entities=True)
    except Exception as exc:  # expat's errors: already refused above in practice
        raise WebhookRejected(400, "invalid_xml", f"the body is not valid XML: {exc}") from None
    try:
        check_depth(value, max_depth())
    except JsonTooDeep as exc:
        raise WebhookRejected(400, "json_too_deep", f"XML {exc.detail}") from None
    return value
