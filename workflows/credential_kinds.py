"""The typed credential kinds: each one's data fields as a JSON Schema (which drives the admin
and editor forms and validates what the API and the admin store).

    validate_data("smtp", {"host": "mail.example.com", "port": "x"})
        -> raises CredentialDataInvalid({"port": ["'x' is not of type 'integer'"]})
    secret_fields("smtp") -> ("password",)

A secret field carries `"x-secret": true`, `"format": "password"` and `"writeOnly": true`.
Any field may instead hold an external reference, `{"$env": "NAME"}` or
`{"$vault": "secret/path#key"}`, resolved when a run uses the credential (never stored).
Kinds not listed here (free text from before kinds were typed) keep working unvalidated.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

# Old free-text kind names and the typed kind they became (migration 0004 applies it).
LEGACY_KINDS = {"http_header": "api_key_header", "header": "api_key_header",
                "api_key": "api_key_header", "bearer": "bearer_token",
                "basic": "basic_auth", "postgres": "database", "postgresql": "database",
                "mysql": "database", "sqlite": "database", "email": "smtp"}

EXTERNAL_KEYS = ("$env", "$vault")


def _secret(title: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "title": title, "format": "password", "writeOnly": True,
            "x-secret": True, **extra}


def _text(title: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "title": title, **extra}


_PORT = {"type": "integer", "minimum": 1, "maximum": 65535, "title": "Port"}
_URL = {"format": "uri", "pattern": "^https?://"}


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    description: str
    properties: dict[str, Any]
    required: tuple[str, ...] = ()
    # Where "test connection" sends its request for an HTTP kind without a URL given.
    test_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def schema(self) -> dict[str, Any]:
        return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
                "title": self.label, "description": self.description,
                "properties": self.properties, "required": list(self.required),
                "additionalProperties": False, **self.extra}

    @property
    def secret_fields(self) -> tuple[str, ...]:
        return tuple(k for k, v in self.properties.items() if v.get("x-secret"))

    def describe(self) -> dict[str, Any]:
        return {"kind": self.name, "label": self.label, "description": self.description,
                "schema": self.schema, "secret_fields": list(self.secret_fields)}


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("api_key_header", "API key header", "An API key sent in a request header.",
         {"header_name": _text("Header name", default="X-API-Key", minLength=1,
                               pattern="^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"),
          "api_key": _secret("API key", minLength=1)},
         ("header_name", "api_key")),
    Kind("bearer_token", "Bearer token", "Sent as `Authorization: Bearer <token>`.",
         {"token": _secret("Token", minLength=1)}, ("token",)),
    Kind("basic_auth", "Basic auth", "HTTP basic authentication.",
         {"username": _text("Username"), "password": _secret("Password")},
         ("username", "password")),
    Kind("oauth2", "OAuth2", "OAuth2 client credentials, or authorization code with refresh; "
         "the tokens are fetched, refreshed before expiry and stored encrypted.",
         {"grant_type": {"type": "string", "title": "Grant type",
                         "enum": ["client_credentials", "authorization_code"],
                         "default": "client_credentials"},
          "token_url": _text("Token URL", **_URL),
          "authorize_url": _text("Authorize URL", **_URL),
          "client_id": _text("Client id", minLength=1),
          "client_secret": _secret("Client secret"),
          "scope": _text("Scope"),
          "access_token": _secret("Access token"),
          "refresh_token": _secret("Refresh token"),
          "expires_at": {"type": ["number", "null"], "title": "Expires at (Unix time)"}},
         ("grant_type", "token_url", "client_id"),
         extra={"if": {"properties": {"grant_type": {"const": "authorization_code"}}},
                "then": {"required": ["authorize_url"]}}),
    Kind("openai", "OpenAI-compatible", "An OpenAI (or compatible) API key and base URL.",
         {"api_key": _secret("API key", minLength=1),
          "base_url": _text("Base URL", **_URL), "organization": _text("Organization")},
         ("api_key",), test_url="https://api.openai.com/v1"),
    Kind("anthropic", "Anthropic", "An Anthropic API key.",
         {"api_key": _secret("API key", minLength=1), "base_url": _text("Base URL", **_URL)},
         ("api_key",), test_url="https://api.anthropic.com/v1"),
    Kind("smtp", "SMTP", "Send email through an SMTP server.",
         {"host": _text("Host", minLength=1), "port": {**_PORT, "default": 587},
          "username": _text("Username"), "password": _secret("Password"),
          "security": {"type": "string", "title": "Security",
                       "enum": ["starttls", "ssl", "none"], "default": "starttls"},
          "from_address": _text("From address", format="email")},
         ("host",)),
    Kind("imap", "IMAP", "Read a mailbox over IMAP.",
         {"host": _text("Host", minLength=1), "port": {**_PORT, "default": 993},
          "username": _text("Username", minLength=1), "password": _secret("Password"),
          "ssl": {"type": "boolean", "title": "SSL", "default": True},
          "mailbox": _text("Mailbox", default="INBOX")},
         ("host", "username", "password")),
    Kind("database", "Database", "A database URL: postgresql://, mysql:// or sqlite:///path.",
         {"url": _secret("URL", pattern=r"^(postgres|postgresql|mysql|mariadb|sqlite)"
                                         r"(\+[a-z0-9]+)?://")},
         ("url",)),
    Kind("s3", "S3-compatible storage", "A bucket of S3 or an S3-compatible server.",
         {"endpoint_url": _text("Endpoint URL", **_URL), "region": _text("Region"),
          "bucket": _text("Bucket", minLength=1),
          "access_key_id": _text("Access key id"),
          "secret_access_key": _secret("Secret access key")},
         ("bucket",)),
)}


class CredentialDataInvalid(ValueError):
    """`errors`: the messages per data field ("" for the object as a whole)."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def kind_of(name: str) -> Kind | None:
    return KINDS.get(name)


def secret_fields(kind: str) -> tuple[str, ...]:
    found = KINDS.get(kind)
    return found.secret_fields if found is not None else ()


MIN_SECRET = 3  # shorter values are not scrubbed from texts (they would garble everything)


def secret_values(kind: str, data: Any) -> list[str]:
    """The secret strings in a credential's (resolved) data, for scrubbing them from what a run
    stores: its secret fields (or, for an untyped kind, values under secret-looking keys),
    a URL's password, and a basic-auth pair as it appears in a header."""
    from wfaib.masking import is_secret_key

    if not isinstance(data, dict):
        return []
    fields = secret_fields(kind) if kind in KINDS else tuple(
        k for k in data if is_secret_key(k))
    found = [v for k in fields if isinstance(v := data.get(k), str)]
    for value in list(found):
        if "://" in value:
            password = urlsplit(value).password
            if password:
                found.append(password)
    if kind == "basic_auth" and data.get("username") is not None:
        pair = f"{data['username']}:{data.get('password') or ''}".encode()
        found.append(base64.b64encode(pair).decode())
    return sorted({v for v in found if len(v) >= MIN_SECRET}, key=len, reverse=True)


def is_external(value: Any) -> bool:
    """`{"$env": "NAME"}` or `{"$vault": "path#key"}`: resolved at run time."""
    return (isinstance(value, dict) and len(value) == 1 and next(iter(value)) in EXTERNAL_KEYS
            and isinstance(next(iter(value.values())), str))


def _external_problem(value: dict[str, str]) -> str | None:
    (key, ref), = value.items()
    if key == "$env":
        from wfaib.conf import wfaib_settings

        prefix = wfaib_settings.CREDENTIAL_ENV_PREFIX
        if not (ref and ref.replace("_", "a").isalnum()):
            return "$env must name an environment variable (letters, digits, _)"
        return None if ref.startswith(prefix) else \
            f"$env may only name variables starting with {prefix!r} (WFAIB_CREDENTIAL_ENV_PREFIX)"
    path, _, name = ref.partition("#")
    return None if path.strip("/") and name else "$vault must be 'mount/path#key'"


def validate_data(kind: str, data: Any) -> None:
    """Raise CredentialDataInvalid naming each bad field of `data` for `kind` (nothing for a
    kind without a schema)."""
    found = KINDS.get(kind)
    if found is None:
        return
    if not isinstance(data, dict):
        raise CredentialDataInvalid({"": ["expected a JSON object"]})
    errors: dict[str, list[str]] = {}
    plain = {}
    for key, value in data.items():
        if isinstance(value, dict) and set(value) & set(EXTERNAL_KEYS):
            problem = (_external_problem(value) if is_external(value) else
                       "an external value is {\"$env\": \"NAME\"} or "
                       "{\"$vault\": \"mount/path#key\"}")
            if key not in found.properties:
                problem = "unknown field"
            if problem:
                errors.setdefault(key, []).append(problem)
        else:
            plain[key] = value
    external = set(data) - set(plain)
    schema = {**found.schema,
              "required": [r for r in found.required if r not in external]}
    from jsonschema import Draft202012Validator  # on first use: ~9 MB a process otherwise

    for error in Draft202012Validator(schema).iter_errors(plain):
        _add(errors, error, found)
    if errors:
        raise CredentialDataInvalid(errors)


def _add(errors: dict[str, list[str]], error: Any, kind: Kind) -> None:
    if error.path:
        name = str(error.path[0])
        message = error.message
        if kind.properties.get(name, {}).get("x-secret"):  # never echo a secret value back
            message = f"does not satisfy '{error.validator}'"
    elif error.validator == "required":
        name, message = error.message.split("'")[1], "this field is required"
    elif error.validator == "additionalProperties":
        for name in error.instance:
            if name not in kind.properties:
                errors.setdefault(name, []).append("unknown field for this kind")
        return
    else:
        name, message = "", error.message
    errors.setdefault(name, []).append(message)
