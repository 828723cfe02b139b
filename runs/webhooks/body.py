"""Reading a webhook's (or resume call's) body: size, transfer encoding, JSON faithfulness.

    raw = read_body(request, max_body)          # bytes, or raises BodyRefused
    payload = parse_json(raw, request)          # the JSON value, or raises BodyRefused

What is refused, and why (each a `{code, message}` answer naming what is wrong):

    413 body_too_large       past WFAIB_WEBHOOK_MAX_BODY, declared or read, chunked included
    411 length_required      a chunked body the WSGI server does not de-chunk for us
                             (it does not set `wsgi.input_terminated`); granian and gunicorn do
    415 unsupported_media_type  not one of JSON_TYPES, or a charset other than UTF-8
    400 invalid_json         not JSON, NaN/Infinity, or a key repeated in one object (named)
    400 json_too_deep        nested deeper than WFAIB_JSON_MAX_DEPTH (the API's limit), naming where
    400 number_out_of_range  an integer outside -2^63 .. 2^64-1, which the engine cannot keep
                             exactly (naming where); send such numbers as strings

JSON is read by the standard library's parser (exact integers, a hook that sees repeated keys)
rather than orjson, which keeps the last of repeated keys and turns integers past 2^64 into
floats.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest

from wfaib.parsers import JsonTooDeep, check_depth, max_depth

from .rejected import WebhookRejected

# The media types read as JSON. `+json` types beyond these are refused rather than guessed at.
JSON_TYPES = frozenset({
    "application/json", "application/cloudevents+json", "application/vnd.api+json",
    "application/ld+json", "application/merge-patch+json",
})
_INT_MIN, _INT_MAX = -(2 ** 63), 2 ** 64 - 1  # what orjson (the engine's encoder) keeps exactly


class BodyRefused(WebhookRejected):
    """A body that cannot be read or parsed: a WebhookRejected like any other refusal."""


def _too_large(max_body: int) -> BodyRefused:
    return BodyRefused(413, "body_too_large",
                       f"the body is larger than the limit of {max_body} bytes")


def read_body(request: HttpRequest, max_body: int) -> bytes:
    """The request body, at most `max_body` bytes, whether sent with a Content-Length or
    chunked (Django reads only Content-Length bodies: without one its stream is empty)."""
    declared = request.META.get("CONTENT_LENGTH") or ""
    try:
        length = int(declared or 0)
    except ValueError:
        raise BodyRefused(400, "invalid_parameter", "Content-Length is not a number") from None
    if length > max_body:
        raise _too_large(max_body)
    chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
    if chunked and not declared:
        if not request.environ.get("wsgi.input_terminated"):
            raise BodyRefused(411, "length_required",
                              "this server cannot read a chunked body; send a Content-Length")
        body = request.environ["wsgi.input"].read(max_body + 1)
    elif length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:  # an upload within its own limit
        body = request.read(max_body + 1)
    else:
        try:
            body = request.body
        except RequestDataTooBig:  # past DATA_UPLOAD_MAX_MEMORY_SIZE
            raise _too_large(max_body) from None
    if len(body) > max_body:
        raise _too_large(max_body)
    return body


def is_json_type(request: HttpRequest) -> bool:
    return (request.content_type or "").lower() in JSON_TYPES


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"the key {key!r} appears twice in one object")
            seen.add(key)
    return result


def _step(path: str, key: Any) -> str:
    return f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else str(key))


def check_integers(value: Any) -> None:
    """Raise BodyRefused for an integer the engine's JSON encoder cannot keep exactly."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, dict):
            stack.extend((v, _step(path, k)) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, _step(path, i)) for i, v in enumerate(item))
        elif isinstance(item, int) and not isinstance(item, bool) \
                and not _INT_MIN <= item <= _INT_MAX:
            where = f" at {path}" if path else ""
            raise BodyRefused(400, "number_out_of_range",
                              f"the integer{where} is outside -2^63 .. 2^64-1 and cannot be "
                              f"kept exactly; send it as a string")


def parse_json(raw: bytes, request: HttpRequest) -> Any:
    """The JSON value of a non-empty body sent with a JSON content type (see JSON_TYPES)."""
    content_type = (request.content_type or "").lower()
    if content_type not in JSON_TYPES:
        raise BodyRefused(415, "unsupported_media_type",
                          f"send the body as application/json (got "
                          f"{request.content_type or 'no content type'!r}; also read: "
                          f"{', '.join(sorted(JSON_TYPES - {'application/json'}))})")
    charset = (request.content_params or {}).get("charset", "utf-8").strip().lower()
    if charset not in ("utf-8", "utf8"):
        raise BodyRefused(415, "unsupported_media_type",
                          f"JSON must be UTF-8 (got charset={charset})")
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, object_pairs_hook=_object, parse_constant=_refuse_constant)
    except RecursionError:
        raise BodyRefused(400, "json_too_deep",
                          f"JSON nested deeper than {max_depth()} levels") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, repeated keys, NaN
        raise BodyRefused(400, "invalid_json", f"the body is not valid JSON: {exc}") from None
    try:
        check_depth(value, max_depth())
    except JsonTooDeep as exc:
        raise BodyRefused(400, "json_too_deep", str(exc.detail)) from None
    check_integers(value)
    return value
