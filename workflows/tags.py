"""Workflow tags: free labels ("billing", "ops") that the workflow list filters by.

    clean_tags(["Billing", " ops ", "billing"]) -> ["billing", "ops"]

Stored as a JSON list on the workflow (no tag table: a project's workflows are few enough to
list their tags by reading them); each tag is 1-32 lower-case letters, digits, spaces,
hyphens or underscores, at most MAX_TAGS per workflow.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError

MAX_TAGS = 20
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9 _-]{0,31}$")


def clean_tags(value: Any) -> list[str]:
    """`value` as a sorted list of distinct normalised tags; ValueError naming the bad one."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError("expected a list of tags")
    tags: set[str] = set()
    for item in value:
        if not isinstance(item, str):
            raise ValueError("each tag must be text")
        tag = " ".join(item.split()).lower()
        if not TAG_RE.match(tag):
            raise ValueError(f"{item[:40]!r}: 1-32 letters, digits, spaces, - or _, "
                             "starting with a letter or digit")
        tags.add(tag)
    if len(tags) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags")
    return sorted(tags)


def split_tags(text: str) -> list[str]:
    """Comma-separated text (the admin form's field) as a list of tags, not yet cleaned."""
    return [part for part in (p.strip() for p in text.split(",")) if part]


def validate_tags(value: Any) -> None:
    """The model field's validator."""
    try:
        clean_tags(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="invalid_tags") from None
