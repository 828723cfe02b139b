"""Fields that store text with NUL characters on every database.

PostgreSQL's text and jsonb cannot hold U+0000 ("\\u0000 cannot be converted to text"), so a
webhook body, an HTTP response or a node's output holding one made the run's rows fail to
save on PostgreSQL while SQLite kept them. The run's own value keeps its NULs while it runs;
the stored copy has each U+0000 replaced by U+FFFD (the replacement character), on SQLite
too, so both databases store and show the same thing. API bodies are refused at the door
instead (wfaib.parsers): what a user types into the API should not be changed silently.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.db import models

NUL, REPLACEMENT = "\x00", "\ufffd"
# "\u0000" in encoded JSON, but not "\\u0000" (an escaped backslash followed by "u0000").
_ENCODED_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


class NulSafeJSONEncoder(json.JSONEncoder):
    """json's encoder with U+0000 in strings and keys stored as U+FFFD."""

    def encode(self, o: Any) -> str:
        text = super().encode(o)
        if "\\u0000" not in text:  # the common case costs one substring search
            return text
        return _ENCODED_NUL.sub(lambda m: m.group(1) + "\\ufffd", text)


def without_nul(text: str) -> str:
    return text.replace(NUL, REPLACEMENT) if NUL in text else text


class NulSafeJSONField(models.JSONField):
    """A JSONField whose stored JSON holds no U+0000 (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("encoder", NulSafeJSONEncoder)
        super().__init__(*args, **kwargs)


class NulSafeTextField(models.TextField):
    """A TextField whose stored text holds no U+0000 (see the module's docstring)."""

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return without_nul(value) if isinstance(value, str) else value
