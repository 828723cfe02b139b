"""Real servers for the integration nodes, started by the tests themselves: MariaDB (Debian's
mariadb-server), a database of their own on the machine's PostgreSQL, SQLite files in a
folder opened by WFAIB_SQLITE_DIRS. Each skips, saying why, only when its server is absent."""

from __future__ import annotations

import imaplib
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pymysql
import pytest

from tests.integrations.mailservers import self_signed
from tests.servers import free_port

READY_WAIT = 60.0  # seconds a server may take to start (a start-up wait, not a test threshold)


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


def _binary(name: str) -> str | None:
    return shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None)


def _wait(what: str, attempt, log: Path | None = None) -> None:
    deadline = time.monotonic() + READY_WAIT
    while True:
        try:
            attempt()
            return
        except Exception:
            if time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
                raise RuntimeError(f"{what} did not start:\n{tail}") from None
            time.sleep(0.2)


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory) -> Iterator[Server]:
    """A MariaDB server of this test session on 127.0.0.1, with a user `wf` owning
    database `wf`."""
    server, install = _binary("mariadbd"), _binary("mariadb-install-db")
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

        _wait("MariaDB", lambda: root().close(), log)
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


@dataclass(frozen=True)
class ImapServer:
    port: int
    ssl_port: int
    user: str
    password: str
    cert: Path

    def credential(self, **changes) -> dict:
        return {"host": "127.0.0.1", "port": self.port, "username": self.user,
                "password": self.password, "ssl": False, "mailbox": "INBOX", **changes}

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        client.login(self.user, self.password)
        return client

    def deliver(self, raw: bytes, mailbox: str = "INBOX") -> None:
        """Put a message in the mailbox (IMAP APPEND), as a mail server's delivery would."""
        client = self.client()
        try:
            status, _ = client.append(mailbox, None, None, raw)
            assert status == "OK"
        finally:
            client.logout()

    def flags(self, mailbox: str = "INBOX") -> dict[int, str]:
        client = self.client()
        try:
            client.select(mailbox, readonly=True)
            status, data = client.uid("FETCH", "1:*", "(FLAGS)")
            found = {}
            for line in data:
                if not line:
                    continue
                text = line.decode()
                uid = int(text.split("UID ", 1)[1].split()[0].rstrip(")"))
                found[uid] = text
            return found
        finally:
            client.logout()


DOVECOT_CONF = """\
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={uid} home={mail}/%u
}}
mail_location = maildir:{mail}/%u/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ssl_port}
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
"""
NOBODY = 65534  # dovecot will not deliver mail as root: the mail folder belongs to nobody


@pytest.fixture(scope="session")
def dovecot() -> Iterator[ImapServer]:
    """A Dovecot IMAP server of this test session on 127.0.0.1 (plain and TLS listeners),
    with one user whose password is in a passwd file."""
    binary = _binary("dovecot")
    if not binary:
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    if os.geteuid() != 0:
        pytest.skip("the Dovecot fixture runs the server as root (as .ci/run does)")
    # Dovecot's own users (auth, mail) must reach these files: not under pytest's private
    # temporary folder. The mail folder belongs to the unprivileged mail user.
    base = Path(tempfile.mkdtemp(prefix="wfaib-dovecot-"))
    base.chmod(0o755)
    mail = base / "mail"
    mail.mkdir()
    os.chown(mail, NOBODY, NOBODY)
    cert, key = self_signed(base)
    (base / "passwd").write_text("wf:{PLAIN}imap-Secr3t-pw::::::\n")
    port, ssl_port = free_port(), free_port()
    conf = base / "dovecot.conf"
    conf.write_text(DOVECOT_CONF.format(base=base, mail=mail, cert=cert, key=key, port=port,
                                        ssl_port=ssl_port, uid=NOBODY))
    with (base / "out.log").open("wb") as out:
        proc = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=out,
                                stderr=subprocess.STDOUT)
    server = ImapServer(port, ssl_port, "wf", "imap-Secr3t-pw", cert)
    try:
        _wait("Dovecot", lambda: server.client().logout(), base / "dovecot.log")
        yield server
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        shutil.rmtree(base, ignore_errors=True)
