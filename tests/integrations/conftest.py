"""Real servers for the integration nodes, started by the tests themselves: MariaDB (Debian's
mariadb-server), a database of their own on the machine's PostgreSQL, SQLite files in a
folder opened by WFAIB_SQLITE_DIRS. Each skips, saying why, only when its server is absent.
The IMAP server (`dovecot`) is in tests/conftest.py, since the credentials tests use it too."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pymysql
import pytest

from tests.servers import free_port, installed, wait_until


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    password: str
    database: str
    scheme: str

    @property
    def url(self) -> str:
        return (f"{self.scheme}://{self.user}:{self.password}@{self.host}:{self.port}/"
                f"{self.database}")


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory) -> Iterator[Server]:
    """A MariaDB server of this test session on 127.0.0.1, with a user `wf` owning
    database `wf`."""
    server, install = installed("mariadbd"), installed("mariadb-install-db")
    if not server or not install:
        pytest.skip("MariaDB is not installed (mariadbd, mariadb-install-db: apt-get install "
                    "mariadb-server)")
    base = tmp_path_factory.mktemp("mariadb")
    data, sock, log = base / "data", base / "mysqld.sock", base / "server.log"
    subprocess.run([install, "--no-defaults", f"--datadir={data}", "--user=root",
                    "--auth-root-authentication-method=normal", "--skip-test-db"],
                   check=True, capture_output=True)
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [server, "--no-defaults", f"--datadir={data}", f"--socket={sock}", f"--port={port}",
             "--bind-address=127.0.0.1", "--user=root", "--skip-log-bin",
             "--skip-name-resolve", "--innodb-buffer-pool-size=16M",
             f"--pid-file={base / 'mysqld.pid'}"],
            stdout=out, stderr=subprocess.STDOUT)
    try:
        def root():
            return pymysql.connect(unix_socket=str(sock), user="root", autocommit=True)

        wait_until("MariaDB", lambda: root().close(), log)
        with root() as conn, conn.cursor() as cur:
            cur.execute("CREATE USER 'wf'@'%' IDENTIFIED BY 'maria-Secr3t'")
            cur.execute("CREATE DATABASE wf")
            cur.execute("GRANT ALL ON wf.* TO 'wf'@'%'")
        yield Server("127.0.0.1", port, "wf", "maria-Secr3t", "wf", "mysql")
    finally:
        proc.terminate()
        proc.wait(timeout=60)


@pytest.fixture(scope="session")
def postgresql_db() -> Iterator[Server]:
    """A database of its own on the machine's PostgreSQL (127.0.0.1:5432, user postgres)."""
    name = f"wfaib_integ_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres",
                                autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not running on 127.0.0.1:5432 ({exc})")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield Server("127.0.0.1", 5432, "postgres", "pg-unused-pw", name, "postgresql")
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_dir(tmp_path, settings) -> Path:
    """A folder the database node may open SQLite files in."""
    folder = tmp_path / "dbs"
    folder.mkdir()
    settings.WFAIB = {**settings.WFAIB, "SQLITE_DIRS": [str(folder)]}
    return folder
