""""Test connection" for a stored credential, per kind: does the secret open the door it is
for? Answers {ok, message}; the message never holds a secret (known values are scrubbed).

    check_credential(credential, url="https://api.example.com/me")

HTTP kinds send a GET to `url` (or the kind's default) with the credential applied; smtp and
imap connect and log in; database connects and runs SELECT 1; s3 asks head_bucket; openai and
anthropic list models. Every connection is under the rules the nodes are under: the outbound
address guard (an internal address only when WFAIB_HTTP_ALLOW permits it; smtp, imap and
database connect to the address it checked), SQLite files only in WFAIB_SQLITE_DIRS.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from typing import Any

import httpx

from nodes.base import NodeError
from nodes.databases import DatabaseFailure, Statement, Target, execute, parse_url
from nodes.http_auth import HTTP_AUTH_KINDS, auth_headers
from nodes.types import email as email_node
from wfaib.masking import scrub_values
from workflows.credential_kinds import KINDS, secret_values
from workflows.models import Credential

from .engine import outbound
from .engine.connections import local_database_file, outbound_address
from .engine.credentials import credential_payload
from .imap_client import MailboxError, open_mailbox

TIMEOUT = 10.0


class CheckFailed(Exception):
    pass


def check_credential(credential: Credential, *, url: str | None = None) -> dict[str, Any]:
    """Run the kind's check; {"ok": bool, "message": str} without any secret in it."""
    known: list[str] = []
    try:
        payload = credential_payload(credential)
        known = secret_values(payload["kind"], payload["data"])
        check = CHECKS.get(payload["kind"])
        if check is None:
            return {"ok": False, "message": f"kind {credential.kind!r} has no connection test"}
        message = check(payload, url)
        return {"ok": True, "message": scrub_values(message, known)}
    except (CheckFailed, NodeError) as exc:
        return {"ok": False, "message": scrub_values(str(exc), known)}
    except Exception as exc:  # any library's failure is the answer, named by its type
        return {"ok": False, "message": scrub_values(f"{type(exc).__name__}: {exc}", known)}


def _http_get(url: str, headers: dict[str, str]) -> httpx.Response:
    try:
        return outbound.request("GET", url, timeout=TIMEOUT, headers=headers)
    except httpx.HTTPError as exc:
        raise CheckFailed(f"GET {url} failed: {exc}") from None


def _answered(response: httpx.Response, what: str) -> str:
    if 200 <= response.status_code < 300:
        return f"{what} answered HTTP {response.status_code}"
    raise CheckFailed(f"{what} answered HTTP {response.status_code}")


def _check_http(payload: dict[str, Any], url: str | None) -> str:
    target = url or KINDS[payload["kind"]].test_url
    if not target:
        raise CheckFailed("give the URL to test against (body field `url`)")
    return _answered(_http_get(target, auth_headers(payload)), f"GET {target}")


def _check_openai(payload: dict[str, Any], url: str | None) -> str:
    data = payload["data"]
    base = (url or data.get("base_url") or KINDS["openai"].test_url).rstrip("/")
    headers = {"Authorization": f"Bearer {data.get('api_key', '')}"}
    if data.get("organization"):
        headers["OpenAI-Organization"] = data["organization"]
    response = _http_get(f"{base}/models", headers)
    message = _answered(response, f"GET {base}/models")
    return f"{message}; {_model_count(response)}"


def _check_anthropic(payload: dict[str, Any], url: str | None) -> str:
    data = payload["data"]
    base = (url or data.get("base_url") or KINDS["anthropic"].test_url).rstrip("/")
    response = _http_get(f"{base}/models", {"x-api-key": str(data.get("api_key", "")),
                                            "anthropic-version": "2023-06-01"})
    return f"{_answered(response, f'GET {base}/models')}; {_model_count(response)}"


def _model_count(response: httpx.Response) -> str:
    try:
        return f"{len(response.json().get('data') or [])} models"
    except (ValueError, AttributeError):
        return "models listed"


def _check_smtp(payload: dict[str, Any], url: str | None) -> str:
    settings = email_node.settings_from(dict(payload["data"]))
    host, port = str(settings["host"]), int(settings["port"])
    username = str(settings.get("username") or "")
    address = outbound_address(host, port)
    try:
        with email_node.smtp_session(settings, address, TIMEOUT):
            pass
    except (smtplib.SMTPException, OSError) as exc:
        raise CheckFailed(email_node.failure(exc, host, port, username)) from None
    if username:
        return f"connected to {host}:{port} and logged in as {username}"
    return f"connected to {host}:{port}"


def _check_imap(payload: dict[str, Any], url: str | None) -> str:
    data = payload["data"]
    mailbox = str(data.get("mailbox") or "") or "INBOX"
    try:  # open_mailbox connects to the address the outbound policy checked
        with open_mailbox(data, mailbox=mailbox, timeout=TIMEOUT) as box:
            box.state()
    except MailboxError as exc:
        raise CheckFailed(str(exc)) from None
    port = data.get("port") or (993 if data.get("ssl", True) else 143)
    return f"connected to {data['host']}:{port}, logged in as {data['username']}, opened " \
           f"{mailbox}"


def _check_database(payload: dict[str, Any], url: str | None) -> str:
    """SELECT 1 through the database node's own drivers, under its rules: the server's
    address checked by the outbound policy, a SQLite file only in WFAIB_SQLITE_DIRS."""
    try:
        target = parse_url(str(payload["data"].get("url") or ""))
        address = ""
        if target.driver == "sqlite":
            target = Target("sqlite", path=local_database_file(target.path))
        else:
            address = outbound_address(target.host, target.port)
        execute(target, Statement("SELECT 1", None, writes=False, timeout=TIMEOUT, max_rows=1),
                address=address)
    except DatabaseFailure as exc:
        raise CheckFailed(exc.message) from None
    if target.driver == "sqlite":
        return "opened the SQLite database and ran SELECT 1"
    name = {"postgresql": "PostgreSQL", "mysql": "MySQL"}[target.driver]
    return f"connected to {name} at {target.host}:{target.port} and ran SELECT 1"


def _check_s3(payload: dict[str, Any], url: str | None) -> str:
    try:
        import boto3  # type: ignore[import-not-found]
    except ImportError:
        raise CheckFailed("no S3 client installed (pip install boto3)") from None
    data = payload["data"]
    refused = outbound.refusal_for(data["endpoint_url"]) if data.get("endpoint_url") else None
    if refused:  # S3 speaks HTTP: the same address policy as every outbound request
        raise CheckFailed(f"endpoint_url {data['endpoint_url']}: {refused}")
    client = boto3.client("s3", endpoint_url=data.get("endpoint_url") or None,
                          region_name=data.get("region") or None,
                          aws_access_key_id=data.get("access_key_id") or None,
                          aws_secret_access_key=data.get("secret_access_key") or None)
    client.head_bucket(Bucket=data["bucket"])
    return f"the bucket {data['bucket']!r} is reachable"


CHECKS: dict[str, Callable[[dict[str, Any], str | None], str]] = {
    **dict.fromkeys(HTTP_AUTH_KINDS, _check_http),
    "openai": _check_openai, "anthropic": _check_anthropic, "smtp": _check_smtp,
    "imap": _check_imap, "database": _check_database, "s3": _check_s3,
}
