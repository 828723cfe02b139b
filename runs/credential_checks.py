""""Test connection" for a stored credential, per kind: does the secret open the door it is
for? Answers {ok, message}; the message never holds a secret (known values are scrubbed).

    check_credential(credential, url="https://api.example.com/me")

HTTP kinds send a GET to `url` (or the kind's default) with the credential applied, through the
outbound address guard; smtp and imap connect and log in; database connects and runs
SELECT 1; s3 asks head_bucket; openai and anthropic list models.
"""

from __future__ import annotations

import imaplib
import smtplib
import sqlite3
import ssl
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from nodes.base import NodeError
from nodes.http_auth import HTTP_AUTH_KINDS, auth_headers
from wfaib.masking import scrub_values
from workflows.credential_kinds import KINDS, secret_values
from workflows.models import Credential

from .engine import outbound
from .engine.credentials import credential_payload

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
    data = payload["data"]
    host, security = data["host"], data.get("security", "starttls")
    port = int(data.get("port") or (465 if security == "ssl" else 587))
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if security == "ssl":
        smtp = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=TIMEOUT)
    with smtp:
        smtp.ehlo()
        if security == "starttls":
            smtp.starttls(context=context)
            smtp.ehlo()
        if data.get("username"):
            smtp.login(data["username"], data.get("password") or "")
            return f"connected to {host}:{port} and logged in as {data['username']}"
    return f"connected to {host}:{port}"


def _check_imap(payload: dict[str, Any], url: str | None) -> str:
    data = payload["data"]
    host, use_ssl = data["host"], data.get("ssl", True)
    port = int(data.get("port") or (993 if use_ssl else 143))
    imap = (imaplib.IMAP4_SSL(host, port, timeout=TIMEOUT) if use_ssl
            else imaplib.IMAP4(host, port, timeout=TIMEOUT))
    try:
        imap.login(data["username"], data.get("password") or "")
        mailbox = data.get("mailbox") or "INBOX"
        status, _ = imap.select(mailbox, readonly=True)
        if status != "OK":
            raise CheckFailed(f"logged in, but the mailbox {mailbox!r} could not be opened")
        return f"connected to {host}:{port}, logged in as {data['username']}, opened {mailbox}"
    finally:
        try:
            imap.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def _check_database(payload: dict[str, Any], url: str | None) -> str:
    raw = payload["data"]["url"]
    parts = urlsplit(raw)
    scheme = parts.scheme.split("+")[0]
    if scheme == "sqlite":
        # sqlite:///relative.db or sqlite:////absolute/path.db (SQLAlchemy's form)
        path = raw.split(":///", 1)[1] if ":///" in raw else ""
        if not path:
            raise CheckFailed("a SQLite URL is sqlite:///path/to/file.db")
        connection = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=TIMEOUT)
        try:
            connection.execute("SELECT 1").fetchone()
        finally:
            connection.close()
        return "opened the SQLite database and ran SELECT 1"
    if scheme in ("postgres", "postgresql"):
        import psycopg

        dsn = raw.replace(parts.scheme + "://", "postgresql://", 1)
        with psycopg.connect(dsn, connect_timeout=int(TIMEOUT)) as conn:
            conn.execute("SELECT 1").fetchone()
        return f"connected to PostgreSQL at {parts.hostname}:{parts.port or 5432} and ran " \
               f"SELECT 1"
    if scheme in ("mysql", "mariadb"):
        return _check_mysql(parts)
    raise CheckFailed(f"unsupported database URL scheme {scheme!r}")


def _check_mysql(parts: Any) -> str:
    try:
        import pymysql  # type: ignore[import-not-found]
    except ImportError:
        raise CheckFailed("no MySQL driver installed (pip install pymysql)") from None
    conn = pymysql.connect(host=parts.hostname, port=parts.port or 3306, user=parts.username,
                           password=parts.password or "", database=parts.path.lstrip("/"),
                           connect_timeout=int(TIMEOUT))
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        conn.close()
    return f"connected to MySQL at {parts.hostname}:{parts.port or 3306} and ran SELECT 1"


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
