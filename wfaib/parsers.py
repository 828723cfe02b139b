"""The API's JSON parser, with limits: body size and nesting depth.

    413 {"code": "body_too_large", "message": "the request body is larger than 2097152 bytes"}
    400 {"code": "json_too_deep", "message": "JSON nested deeper than 64 levels at input.a[0]"}
    400 {"code": "invalid_json", "message": "the body is not valid JSON: ..."}
    400 {"code": "nul_character", "message": "the body holds a NUL character ... at name"}

A NUL character (U+0000) anywhere in a string or key is refused: PostgreSQL cannot store it,
and quietly changing what a user sent would be worse (run data from webhooks and nodes is
stored with U+FFFD in its place instead, see wfaib.nul_safe).

Limits: WFAIB_API_MAX_BODY (bytes) and WFAIB_JSON_MAX_DEPTH. The body is read at most one byte
past the limit, so an oversized body is never held in memory whole; the depth is checked after
parsing without recursion (and a body too deep for the parser itself is answered the same way).
The webhook and resume endpoints read their bodies themselves, with their own size limit.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

from wfaib.conf import wfaib_settings


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"
    default_detail = "the request body is too large"


class JsonTooDeep(exceptions.ParseError):
    default_code = "json_too_deep"
    default_detail = "the JSON body is nested too deeply"


class NulCharacter(exceptions.ParseError):
    default_code = "nul_character"
    default_detail = "the body holds a NUL character (\\u0000), which cannot be stored"


def max_body() -> int:
    return int(wfaib_settings.API_MAX_BODY)


def max_depth() -> int:
    return int(wfaib_settings.JSON_MAX_DEPTH)


def _step(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def check_depth(value: Any, limit: int) -> None:
    """Raise JsonTooDeep when containers nest deeper than `limit` (`{}` is depth 1)."""
    stack: list[tuple[Any, int, str]] = [(value, 0, "")]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, dict):
            children: Any = item.items()
        elif isinstance(item, list):
            children = enumerate(item)
        else:
            continue
        depth += 1
        if depth > limit:
            where = f" at {path}" if path else ""
            raise JsonTooDeep(f"JSON nested deeper than {limit} levels{where}")
        stack.extend((child, depth, _step(path, key)) for key, child in children
                     if isinstance(child, dict | list))


class LimitedJSONParser(JSONParser):
    """DRF's JSONParser with a size limit (413) and a nesting-depth limit (400)."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        limit = max_body()
        request = parser_context.get("request")
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0) if request else 0
        except ValueError:
            declared = 0
        if declared > limit:
            raise BodyTooLarge(f"the request body is larger than {limit} bytes")
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise BodyTooLarge(f"the request body is larger than {limit} bytes")
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        parse_constant = json.strict_constant if self.strict else None
        try:
            text = raw.decode(encoding)
            data = json.loads(text, parse_constant=parse_constant)
        except RecursionError:
            raise JsonTooDeep(f"JSON nested deeper than {max_depth()} levels") from None
        except ValueError as exc:
            # The same code as the webhook and resume doors: one name for one mistake.
            raise exceptions.ParseError(f"the body is not valid JSON: {exc}",
                                        code="invalid_json") from None
        check_depth(data, max_depth())
        if "\\u0000" in text:  # a quick look first: the walk only when one may be there
            check_nul(data)
        return data


def check_nul(value: Any) -> None:
    """Raise NulCharacter naming where a string or key holds U+0000."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in key:
                    raise NulCharacter(f"the body holds a NUL character (\\u0000) in a key "
                                       f"at {path or 'the top level'}, which cannot be stored")
                stack.append((child, _step(path, key)))
        elif isinstance(item, list):
            stack.extend((child, _step(path, i)) for i, child in enumerate(item))
        elif isinstance(item, str) and "\x00" in item:
            raise NulCharacter(f"the body holds a NUL character (\\u0000) at "
                               f"{path or 'the top level'}, which cannot be stored")


