"""The `database` node's drivers: one parameterised statement against PostgreSQL (psycopg),
MySQL or MariaDB (PyMySQL) or SQLite (sqlite3), read-only unless writes are allowed, under a
statement timeout, fetching at most `max_rows` rows.

    target = parse_url("postgresql://app:pw@db.example:5432/shop")
    result = execute(target, Statement("SELECT * FROM t WHERE id = %s", [7], writes=False,
                                       timeout=30, max_rows=1000), address="203.0.113.5")

The SQL is sent as written and the parameters separately, through the driver's own binding
(never formatted into the text); each driver takes one statement only (PostgreSQL through the
extended protocol, PyMySQL without multi-statements, sqlite3 by design). Read-only is the
database's own rule: PostgreSQL `BEGIN READ ONLY`, MySQL/MariaDB `SET SESSION TRANSACTION READ
ONLY` + `START TRANSACTION READ ONLY`, SQLite opened with `mode=ro`. The timeout is the
server's (`statement_timeout`, `max_statement_time` / `max_execution_time`) or, for SQLite, a
progress handler. Failures are `DatabaseFailure`s whose text never holds the password.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import itertools
import os
import sqlite3
import time
import uuid
from collections.abc import Generator, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast
from urllib.parse import parse_qsl, quote, unquote, urlsplit

if TYPE_CHECKING:
    import psycopg

Driver = Literal["postgresql", "mysql", "sqlite"]
SCHEMES: dict[str, Driver] = {"postgresql": "postgresql", "postgres": "postgresql",
                              "mysql": "mysql", "mariadb": "mysql", "sqlite": "sqlite"}
DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}
# URL query parameters passed on; any other (host=, hostaddr=, service=, passfile=...) would
# reach around the address policy or read the server's files, so it is refused.
OPTIONS: dict[Driver, tuple[str, ...]] = {
    "postgresql": ("sslmode", "application_name"),
    "mysql": ("charset",),
    "sqlite": (),
}
CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Target:
    """Where to connect, parsed from a `database` credential's URL."""

    driver: Driver
    host: str = ""
    port: int = 0
    user: str = ""
    password: str = field(default="", repr=False)
    database: str = ""
    path: str = ""  # sqlite: the file as written in the URL
    options: dict[str, str] = field(default_factory=dict)

    def secrets(self) -> list[str]:
        return [s for s in {self.password, _quoted(self.password)} if s]


@dataclass(frozen=True)
class Statement:
    sql: str
    parameters: list[Any] | dict[str, Any] | None
    writes: bool
    timeout: float
    max_rows: int


@dataclass
class Result:
    columns: list[str]
    rows: list[dict[str, Any]]
    truncated: bool
    affected_rows: int | None


class DatabaseFailure(Exception):
    """`kind`: connect, read_only, timeout, sql, url."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


def _quoted(text: str) -> str:
    return quote(text, safe="")


def parse_url(url: str) -> Target:
    """A credential's URL as a Target; DatabaseFailure("url") naming what is wrong (never the
    password)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise DatabaseFailure("url", "the database URL is not valid") from None
    driver = SCHEMES.get(parts.scheme.lower())
    if driver is None:
        raise DatabaseFailure("url", f"unsupported database URL scheme {parts.scheme!r} (use "
                              f"postgresql://, mysql:// or sqlite:///)")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(options) - set(OPTIONS[driver]))
    if unknown:
        raise DatabaseFailure("url", f"unsupported database URL parameter(s): "
                              f"{', '.join(unknown)}")
    if driver == "sqlite":
        path = url.strip().split("?", 1)[0][len(parts.scheme) + len(":///"):]
        if parts.netloc or not url.strip().lower().startswith("sqlite:///") or not path:
            raise DatabaseFailure("url", "a SQLite URL is sqlite:///relative/file.db or "
                                  "sqlite:////absolute/file.db")
        return Target("sqlite", path=unquote(path))
    host = parts.hostname or ""
    if not host or host.startswith("/"):
        raise DatabaseFailure("url", "the database URL needs a host name (unix sockets are "
                              "not allowed)")
    return Target(driver, host=host, port=port or DEFAULT_PORTS[driver],
                  user=unquote(parts.username or ""), password=unquote(parts.password or ""),
                  database=unquote(parts.path.lstrip("/")), options=options)


def jsonable(value: Any) -> Any:
    """A database value as JSON: exact decimals as text, times in ISO 8601, bytes in base64."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return str(value)


def _collect(columns: list[str], rows: Iterator[Any], max_rows: int) -> tuple[list, bool]:
    fetched = list(itertools.islice(rows, max_rows + 1))
    truncated = len(fetched) > max_rows
    return [dict(zip(columns, (jsonable(v) for v in row), strict=False))
            for row in fetched[:max_rows]], truncated


def execute(target: Target, statement: Statement, *, address: str = "") -> Result:
    """Run `statement` on `target` (connecting to `address`, the checked IP of its host)."""
    try:
        if target.driver == "postgresql":
            return _postgresql(target, statement, address)
        if target.driver == "mysql":
            return _mysql(target, statement, address)
        return _sqlite(target, statement)
    except DatabaseFailure as exc:
        raise DatabaseFailure(exc.kind, scrub(exc.message, target)) from None


def scrub(text: str, target: Target) -> str:
    for secret in target.secrets():
        text = text.replace(secret, "***")
    return text


# -- PostgreSQL --------------------------------------------------------------------------------
def _postgresql(target: Target, statement: Statement, address: str) -> Result:
    import psycopg  # the drivers load with the first query: ~25 MB a process otherwise

    try:
        conn = psycopg.connect(
            host=target.host, hostaddr=address or None, port=target.port, user=target.user,
            password=target.password, dbname=target.database or target.user,
            connect_timeout=max(1, int(min(statement.timeout, CONNECT_TIMEOUT))),
            passfile=os.devnull, sslmode=target.options.get("sslmode", "prefer"),
            application_name=target.options.get("application_name", "wfaib"),
            autocommit=False)
    except psycopg.Error as exc:
        raise DatabaseFailure("connect", f"cannot connect to {target.host}:{target.port}: "
                              f"{_first_line(exc)}") from None
    with closing(conn):
        conn.read_only = not statement.writes
        try:
            cursor = conn.cursor()
            cursor.execute("SELECT set_config('statement_timeout', %s, true)",
                           [str(int(statement.timeout * 1000))])
            columns, found, truncated = _postgresql_rows(cursor, statement)
            affected = cursor.rowcount if statement.writes and cursor.rowcount >= 0 else None
            conn.commit() if statement.writes else conn.rollback()
        except psycopg.Error as exc:
            raise _postgresql_failure(exc, statement) from None
    return Result(columns, found, truncated, affected)


def _postgresql_rows(cursor: psycopg.Cursor,
                     statement: Statement) -> tuple[list[str], list[dict[str, Any]], bool]:
    """Rows of the statement, streamed when reading (the server's result is not held in
    memory past `max_rows`); a write is executed whole, for its row count."""
    if statement.writes:
        cursor.execute(statement.sql, statement.parameters or None, prepare=True)
        if cursor.description is None:
            return [], [], False
        columns = [c.name for c in cursor.description]
        return columns, *_collect(columns, iter(cursor.fetchone, None), statement.max_rows)
    # A generator: closing it early ends the query and leaves the connection usable.
    import psycopg

    rows = cast("Generator[Any, None, None]",
                cursor.stream(statement.sql, statement.parameters or None, size=100))
    with closing(rows):
        try:
            first = next(rows, None)
        except psycopg.ProgrammingError as exc:  # no result set (SET, SHOW-less commands)
            if getattr(exc, "sqlstate", None) is None and "didn't produce" in str(exc):
                return [], [], False
            raise
        columns = [c.name for c in cursor.description or []]
        found, truncated = _collect(
            columns, itertools.chain([] if first is None else [first], rows),
            statement.max_rows)
    return columns, found, truncated


def _postgresql_failure(exc: Exception, statement: Statement) -> DatabaseFailure:
    sqlstate = getattr(exc, "sqlstate", None)
    if sqlstate == "25006":
        return DatabaseFailure("read_only", _first_line(exc))
    if sqlstate == "57014":
        return DatabaseFailure("timeout", f"the statement ran longer than {statement.timeout:g}"
                               f" s and was cancelled")
    import psycopg

    if sqlstate is None and isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)):
        return DatabaseFailure("connect", f"the connection failed: {_first_line(exc)}")
    return DatabaseFailure("sql", _first_line(exc))


# -- MySQL and MariaDB -------------------------------------------------------------------------
MYSQL_READ_ONLY = 1792
MYSQL_TIMEOUTS = (1969, 3024)  # MariaDB max_statement_time, MySQL max_execution_time


def _mysql(target: Target, statement: Statement, address: str) -> Result:
    import pymysql
    import pymysql.cursors

    try:
        conn = pymysql.connect(
            host=address or target.host, port=target.port, user=target.user,
            password=target.password, database=target.database or None,
            connect_timeout=min(statement.timeout, CONNECT_TIMEOUT),
            read_timeout=statement.timeout + CONNECT_TIMEOUT, write_timeout=statement.timeout,
            charset=target.options.get("charset", "utf8mb4"), autocommit=False,
            local_infile=False, cursorclass=pymysql.cursors.SSCursor)
    except pymysql.Error as exc:
        raise DatabaseFailure("connect", f"cannot connect to {target.host}:{target.port}: "
                              f"{_mysql_message(exc)}") from None
    with closing(conn):
        try:
            cursor = conn.cursor()
            if "mariadb" in conn.get_server_info().lower():
                cursor.execute("SET SESSION max_statement_time = %s", [statement.timeout])
            else:
                cursor.execute("SET SESSION max_execution_time = %s",
                               [int(statement.timeout * 1000)])
            if statement.writes:
                cursor.execute("START TRANSACTION")
            else:  # the session rule also refuses DDL, which would commit implicitly
                cursor.execute("SET SESSION TRANSACTION READ ONLY")
                cursor.execute("START TRANSACTION READ ONLY")
            try:
                cursor.execute(statement.sql, statement.parameters or None)
            except (TypeError, KeyError, ValueError) as exc:  # PyMySQL formats client-side
                raise DatabaseFailure("sql", f"the parameters do not match the query's "
                                      f"placeholders ({type(exc).__name__}: {exc})") from None
            columns = [c[0] for c in cursor.description or []]
            found, truncated = _collect(columns, iter(cursor.fetchone, None), statement.max_rows)
            affected = None if cursor.description else conn.affected_rows()
            cursor.close()  # reads past what is left of the (unbuffered) result
            conn.commit() if statement.writes else conn.rollback()
        except pymysql.Error as exc:
            raise _mysql_failure(exc, statement) from None
    return Result(columns, found, truncated, affected)


def _mysql_message(exc: Exception) -> str:
    args: tuple[Any, ...] = getattr(exc, "args", ())
    return str(args[1]) if len(args) > 1 else _first_line(exc)


def _mysql_failure(exc: Exception, statement: Statement) -> DatabaseFailure:
    args = getattr(exc, "args", ())
    code = args[0] if args and isinstance(args[0], int) else None
    if code == MYSQL_READ_ONLY:
        return DatabaseFailure("read_only", _mysql_message(exc))
    if code in MYSQL_TIMEOUTS:
        return DatabaseFailure("timeout", f"the statement ran longer than {statement.timeout:g}"
                               f" s and was cancelled")
    import pymysql

    lost = isinstance(exc, (pymysql.OperationalError, pymysql.InterfaceError))
    if lost and (code is None or code >= 2000):  # client-side: the connection was lost
        return DatabaseFailure("connect", f"the connection failed: {_mysql_message(exc)}")
    return DatabaseFailure("sql", _mysql_message(exc))


# -- SQLite ------------------------------------------------------------------------------------
SQLITE_PROGRESS_STEPS = 10_000  # virtual-machine instructions between two timeout checks


def _sqlite_authorizer(action: int, *args: Any) -> int:
    # ATTACH would open any other file (and create one when writes are allowed).
    if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def _sqlite(target: Target, statement: Statement) -> Result:
    path = target.path  # already resolved inside WFAIB_SQLITE_DIRS by the node
    if not os.path.isfile(path):
        raise DatabaseFailure("connect", f"SQLite file {os.path.basename(path)!r} does not "
                              f"exist")
    mode = "rw" if statement.writes else "ro"
    try:
        conn = sqlite3.connect(f"file:{quote(path)}?mode={mode}", uri=True,
                               timeout=min(statement.timeout, CONNECT_TIMEOUT),
                               autocommit=False, check_same_thread=False)
    except sqlite3.Error as exc:
        raise DatabaseFailure("connect", f"cannot open the SQLite file: {exc}") from None
    deadline = time.monotonic() + statement.timeout
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), SQLITE_PROGRESS_STEPS)
    conn.set_authorizer(_sqlite_authorizer)
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    with closing(conn):
        try:
            cursor = conn.execute(statement.sql, statement.parameters or ())
            columns = [c[0] for c in cursor.description or []]
            found, truncated = _collect(columns, iter(cursor), statement.max_rows)
            affected = None if cursor.description else cursor.rowcount
            conn.commit() if statement.writes else conn.rollback()
        except sqlite3.Error as exc:
            raise _sqlite_failure(exc, statement) from None
    return Result(columns, found, truncated, affected)


def _sqlite_failure(exc: Exception, statement: Statement) -> DatabaseFailure:
    text = str(exc)
    if "readonly database" in text:
        return DatabaseFailure("read_only", text)
    if text == "interrupted":
        return DatabaseFailure("timeout", f"the statement ran longer than {statement.timeout:g}"
                               f" s and was cancelled")
    return DatabaseFailure("sql", text)


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
