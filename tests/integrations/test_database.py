"""The `database` node against real servers: the machine's PostgreSQL (a database of its own),
a MariaDB server the session starts, and SQLite files. Values travel as driver parameters,
read-only is the database's own rule, and failures name a reason and never the password."""

from __future__ import annotations

import sqlite3

import psycopg
import pymysql
import pytest

from nodes.base import NodeError
from tests.factories import UserFactory, make_workflow, run_now, simple_definition
from tests.integrations.helpers import run_node
from tests.servers import free_port
from workflows.services import credential_create

EVIL = "x'); DROP TABLE items; --"


def database(url: str) -> dict:
    return {"kind": "database", "data": {"url": url}}


def run_sql(url: str, query: str, **config):
    return run_node("database", {"query": query, **config}, credential=database(url))


def fails(url: str, query: str, **config) -> str:
    with pytest.raises(NodeError) as failure:
        run_sql(url, query, **config)
    return failure.value.message


# -- PostgreSQL --------------------------------------------------------------------------------
@pytest.fixture
def pg(postgresql_db):
    with psycopg.connect(host=postgresql_db.host, port=postgresql_db.port,
                         user=postgresql_db.user, dbname=postgresql_db.database,
                         autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS items")
        conn.execute("CREATE TABLE items (id serial PRIMARY KEY, name text, price numeric, "
                     "added date)")
        conn.execute("INSERT INTO items (name, price, added) VALUES ('pen', 1.50, '2026-01-02'),"
                     " ('ink', 7, '2026-02-03'), ('pad', 3.25, '2026-03-04')")
        yield postgresql_db
        conn.execute("DROP TABLE IF EXISTS items")


def pg_names(pg) -> list[str]:
    with psycopg.connect(host=pg.host, port=pg.port, user=pg.user, dbname=pg.database) as conn:
        return [r[0] for r in conn.execute("SELECT name FROM items ORDER BY id")]


@pytest.mark.django_db(transaction=True)
def test_a_run_queries_postgresql_with_parameters_from_expressions(pg):
    owner = UserFactory()
    credential_create(owner=owner, name="shop", kind="database", data={"url": pg.url})
    workflow = make_workflow(owner=owner, definition=simple_definition({
        "id": "q", "type": "database", "config": {
            "credential": "shop",
            "query": "SELECT name, price, added FROM items WHERE price < %(limit)s "
                     "OR name = %(name)s ORDER BY id",
            "parameters": {"limit": "{{ input.limit }}", "name": "{{ input.name }}"}}}))
    run = run_now(workflow, input={"limit": 2, "name": EVIL})
    assert run.status == "succeeded", run.error
    assert run.result == {"rows": [{"name": "pen", "price": "1.50", "added": "2026-01-02"}],
                          "columns": ["name", "price", "added"], "row_count": 1,
                          "truncated": False, "affected_rows": None}
    # The value was data, not SQL: a template in the query itself is not rendered either.
    assert pg_names(pg) == ["pen", "ink", "pad"]
    templated = run_sql(pg.url, "SELECT '{{ input }}' AS raw")
    assert templated["rows"] == [{"raw": "{{ input }}"}]


def test_postgresql_is_read_only_unless_writes_are_allowed(pg):
    insert = "INSERT INTO items (name) VALUES (%s)"
    message = fails(pg.url, insert, parameters=["new"])
    assert message.startswith("the statement tried to change data, and this node is "
                              "read-only (set allow_writes to let it): cannot execute INSERT")
    for sneaky in ("SELECT 1; DELETE FROM items", "COMMIT; DELETE FROM items",
                   "DROP TABLE items"):
        fails(pg.url, sneaky)
    assert pg_names(pg) == ["pen", "ink", "pad"]
    done = run_sql(pg.url, insert + " RETURNING id", parameters=[EVIL], allow_writes=True)
    assert done["row_count"] == 1
    assert done["affected_rows"] == 1
    assert pg_names(pg)[-1] == EVIL
    deleted = run_sql(pg.url, "DELETE FROM items WHERE name = %s", parameters=[EVIL],
                      allow_writes=True)
    assert deleted["rows"] == []
    assert deleted["affected_rows"] == 1


def test_postgresql_rows_are_limited_and_truncation_is_said(pg):
    some = run_sql(pg.url, "SELECT id FROM items ORDER BY id", max_rows=2)
    assert some["rows"] == [{"id": 1}, {"id": 2}]
    assert some["truncated"] is True
    many = run_sql(pg.url, "SELECT generate_series(1, 1000000) AS n", max_rows=3)
    assert many["row_count"] == 3
    assert many["truncated"] is True
    assert run_sql(pg.url, "SELECT id FROM items", max_rows=3)["truncated"] is False


def test_postgresql_statement_timeout_bad_sql_and_unreachable(pg):
    assert fails(pg.url, "SELECT pg_sleep(30)", timeout=0.2) == (
        "statement timeout: the statement ran longer than 0.2 s and was cancelled")
    assert fails(pg.url, "SELECT %s, %s", parameters=[1]).startswith("SQL error: the query "
                                                                     "has 2 placeholders")
    assert fails(pg.url, "SELEC 1") == 'SQL error: syntax error at or near "SELEC"'
    assert fails(pg.url, "SELECT nope FROM items").startswith(
        'SQL error: column "nope" does not exist')
    down = f"postgresql://postgres:pg-Secr3t@127.0.0.1:{free_port()}/x"
    message = fails(down, "SELECT 1")
    assert message.startswith("cannot reach the database: cannot connect to 127.0.0.1:")
    assert "pg-Secr3t" not in message


# -- MariaDB -----------------------------------------------------------------------------------
@pytest.fixture
def maria(mariadb):
    with pymysql.connect(host=mariadb.host, port=mariadb.port, user=mariadb.user,
                         password=mariadb.password, database=mariadb.database,
                         autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS items")
        cur.execute("CREATE TABLE items (id int AUTO_INCREMENT PRIMARY KEY, name text, "
                    "price decimal(6,2))")
        cur.execute("INSERT INTO items (name, price) VALUES ('pen', 1.5), ('ink', 7), "
                    "('pad', 3.25)")
    return mariadb


def maria_names(m) -> list[str]:
    with pymysql.connect(host=m.host, port=m.port, user=m.user, password=m.password,
                         database=m.database) as conn, conn.cursor() as cur:
        cur.execute("SELECT name FROM items ORDER BY id")
        return [r[0] for r in cur.fetchall()]


def test_mariadb_queries_with_positional_and_named_parameters(maria):
    by_position = run_sql(maria.url, "SELECT name, price FROM items WHERE price > %s "
                          "ORDER BY id", parameters=[2])
    assert by_position["rows"] == [{"name": "ink", "price": "7.00"},
                                   {"name": "pad", "price": "3.25"}]
    by_name = run_sql(maria.url, "SELECT id FROM items WHERE name = %(n)s OR name = %(e)s",
                      parameters={"n": "pad", "e": EVIL})
    assert by_name["rows"] == [{"id": 3}]
    limited = run_sql(maria.url, "SELECT id FROM items ORDER BY id", max_rows=1)
    assert limited["rows"] == [{"id": 1}]
    assert limited["truncated"] is True


def test_mariadb_is_read_only_unless_writes_are_allowed(maria):
    message = fails(maria.url, "INSERT INTO items (name) VALUES (%s)", parameters=["x"])
    assert message == ("the statement tried to change data, and this node is read-only (set "
                       "allow_writes to let it): Cannot execute statement in a READ ONLY "
                       "transaction")
    for ddl in ("DROP TABLE items", "CREATE TABLE other (a int)"):  # DDL would auto-commit
        assert fails(maria.url, ddl).startswith("the statement tried to change data")
    assert fails(maria.url, "SELECT 1; DELETE FROM items").startswith("SQL error: You have "
                                                                       "an error in your SQL")
    assert maria_names(maria) == ["pen", "ink", "pad"]
    done = run_sql(maria.url, "INSERT INTO items (name) VALUES (%s)", parameters=[EVIL],
                   allow_writes=True)
    assert done["affected_rows"] == 1
    assert maria_names(maria)[-1] == EVIL


def test_mariadb_timeout_bad_sql_and_a_wrong_password(maria):
    assert fails(maria.url, "SELECT SLEEP(30)", timeout=0.5) == (
        "statement timeout: the statement ran longer than 0.5 s and was cancelled")
    assert fails(maria.url, "SELECT %s, %s", parameters=[1]) == (
        "SQL error: not enough arguments for format string")
    assert fails(maria.url, "SELECT %(a)s", parameters={"b": 1}).startswith(
        "SQL error: the parameters do not match the query's placeholders (KeyError: ")
    assert fails(maria.url, "SELEC 1").startswith("SQL error: You have an error in your SQL "
                                                  "syntax")
    wrong = maria.url.replace(maria.password, "Wr0ng-pass%40word")
    message = fails(wrong, "SELECT 1")
    assert message.startswith(f"cannot reach the database: cannot connect to 127.0.0.1:"
                              f"{maria.port}: Access denied for user 'wf'")
    assert "Wr0ng" not in message
    assert maria.password not in message


# -- SQLite ------------------------------------------------------------------------------------
@pytest.fixture
def shop_db(sqlite_dir):
    path = sqlite_dir / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE items (id integer PRIMARY KEY, name text, data blob)")
        conn.executemany("INSERT INTO items (name, data) VALUES (?, ?)",
                         [("pen", b"\x00\x01"), ("ink", None)])
    conn.close()
    return path


def sqlite_names(path) -> list[str]:
    with sqlite3.connect(path) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM items ORDER BY id")]
    conn.close()
    return names


def test_sqlite_reads_with_parameters_and_writes_only_when_allowed(shop_db):
    url = "sqlite:///shop.db"  # relative: inside the first WFAIB_SQLITE_DIRS folder
    found = run_sql(url, "SELECT name, data FROM items WHERE name = :n OR name = :e",
                    parameters={"n": "pen", "e": EVIL})
    assert found["rows"] == [{"name": "pen", "data": "AAE="}]
    assert run_sql(f"sqlite:///{shop_db}", "SELECT count(*) AS n FROM items")["rows"] == [
        {"n": 2}]  # sqlite:////absolute/path
    assert fails(url, "INSERT INTO items (name) VALUES (?)", parameters=["x"]) == (
        "the statement tried to change data, and this node is read-only (set allow_writes to "
        "let it): attempt to write a readonly database")
    assert fails(url, "SELECT 1; DELETE FROM items").startswith("SQL error: You can only "
                                                                 "execute one statement")
    assert fails(url, "SELECT ?, ?", parameters=[1]).startswith("SQL error: Incorrect number "
                                                                 "of bindings supplied")
    assert sqlite_names(shop_db) == ["pen", "ink"]
    done = run_sql(url, "INSERT INTO items (name) VALUES (?)", parameters=[EVIL],
                   allow_writes=True)
    assert done["affected_rows"] == 1
    assert sqlite_names(shop_db)[-1] == EVIL


def test_sqlite_files_stay_inside_the_allowed_folders(shop_db, sqlite_dir, tmp_path, settings):
    outside = tmp_path / "outside.db"
    sqlite3.connect(outside).close()
    assert fails("sqlite:///../outside.db", "SELECT 1") == (
        "SQLite file '../outside.db' is outside the folders WFAIB_SQLITE_DIRS allows")
    assert "outside the folders" in fails(f"sqlite:///{outside}", "SELECT 1")
    (sqlite_dir / "link.db").symlink_to(outside)
    assert "outside the folders" in fails("sqlite:///link.db", "SELECT 1")
    for escape in (f"ATTACH DATABASE '{outside}' AS other",
                   f"VACUUM INTO '{sqlite_dir / 'copy.db'}'"):
        assert fails("sqlite:///shop.db", escape, allow_writes=True).startswith("SQL error:")
    assert not (sqlite_dir / "copy.db").exists()
    assert fails("sqlite:///missing.db", "SELECT 1") == (
        "cannot reach the database: SQLite file 'missing.db' does not exist")
    settings.WFAIB = {**settings.WFAIB, "SQLITE_DIRS": []}
    assert fails("sqlite:///shop.db", "SELECT 1").startswith("SQLite files are not enabled")


def test_sqlite_statement_timeout(shop_db):
    endless = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
               "SELECT count(*) FROM n")
    assert fails("sqlite:///shop.db", endless, timeout=0.2) == (
        "statement timeout: the statement ran longer than 0.2 s and was cancelled")


# -- credentials, URLs and the address policy --------------------------------------------------
def test_urls_that_would_reach_around_the_policy_are_refused(pg, settings):
    assert fails("postgresql://u:pw@db.example/x?host=/var/run/postgresql", "SELECT 1") == (
        "bad database credential: unsupported database URL parameter(s): host")
    assert fails("postgresql://u:pw@/x", "SELECT 1").startswith(
        "bad database credential: the database URL needs a host name")
    assert fails("oracle://u:pw@h/x", "SELECT 1").startswith(
        "bad database credential: unsupported database URL scheme 'oracle'")
    settings.WFAIB = {**settings.WFAIB, "HTTP_ALLOW": []}
    message = fails(pg.url, "SELECT 1")
    assert message == ("127.0.0.1:5432: refused: 127.0.0.1 is a loopback address; allow it "
                       "with WFAIB_HTTP_ALLOW")


@pytest.mark.django_db
def test_a_failure_names_the_node_and_never_the_password():
    owner = UserFactory()
    credential_create(owner=owner, name="mail", kind="smtp", data={
        "host": "127.0.0.1", "port": 25, "username": "", "password": "x", "security": "none",
        "from_address": "a@example.com"})
    url = f"mysql://wf:Pa55-word@127.0.0.1:{free_port()}/wf"
    credential_create(owner=owner, name="down", kind="database", data={"url": url})

    def run_with(credential):
        return run_now(make_workflow(owner=owner, definition=simple_definition(
            {"id": "db", "type": "database",
             "config": {"credential": credential, "query": "SELECT 1"}})))

    wrong_kind = run_with("mail")
    assert wrong_kind.status == "failed"
    assert wrong_kind.error == ("node 'db' (database) failed: credential 'mail' is of kind "
                                "'smtp'; this node needs one of: database")
    down = run_with("down")
    assert down.error.startswith("node 'db' (database) failed: cannot reach the database: "
                                 "cannot connect to 127.0.0.1:")
    assert "Pa55-word" not in down.error
