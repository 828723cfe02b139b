"""Structured output: the instruction that asks a model for JSON, the check of its answer
(parsed, and validated against a JSON Schema with `jsonschema`), and the repair message that
sends the problem back to the model once.

    problem = schema_problem(schema)               # None, or why the schema itself is invalid
    value, problem = check(text, schema)           # (parsed value, None) or (None, "why")
    messages += [assistant(text), repair_message(problem)]
"""

from __future__ import annotations

import json
import re
from typing import Any

from .chat import Message

_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(.*?)\n?\s*```\s*$", re.DOTALL)


def schema_problem(schema: Any) -> str | None:
    """Why `schema` is not a usable JSON Schema, or None."""
    if not isinstance(schema, dict):
        return "must be a JSON Schema object"
    from jsonschema import exceptions as schema_errors  # on first use, as below
    from jsonschema import validators

    try:
        validators.validator_for(schema).check_schema(schema)
    except schema_errors.SchemaError as exc:
        return f"not a valid JSON Schema: {exc.message}"
    return None


def instruction(schema: dict[str, Any] | None) -> str:
    """What to add to the system prompt so the model answers in JSON (OpenAI's JSON mode also
    requires the word JSON in the messages; Anthropic has no JSON mode)."""
    text = "Answer with one JSON value only: no prose, no code fences."
    if schema is not None:
        text += (" It must be valid against this JSON Schema:\n"
                 + json.dumps(schema, ensure_ascii=False))
    return text


def check(text: str, schema: dict[str, Any] | None) -> tuple[Any, str | None]:
    """The answer parsed (a ```json fence around it is tolerated) and validated."""
    fenced = _FENCE.match(text)
    try:
        value = json.loads(fenced.group(1) if fenced else text)
    except ValueError as exc:
        return None, f"the answer is not valid JSON ({exc})"
    if schema is not None:
        from jsonschema import exceptions as schema_errors  # on first use: ~9 MB otherwise
        from jsonschema import validators

        validator = validators.validator_for(schema)(schema)
        error = schema_errors.best_match(validator.iter_errors(value))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path)
            return None, (f"the JSON does not match the schema at "
                          f"{'/' + where if where else 'the top level'}: {error.message}")
    return value, None


def repair_message(problem: str) -> Message:
    return Message(role="user", content=(
        f"Your previous answer cannot be used: {problem}. Answer again with only the "
        f"corrected JSON."))
