import os
import shutil

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.tokens import token_create
from tests.factories import UserFactory
from tests.llm_servers import ModelServer
from tests.servers import LoopbackServer


@pytest.fixture(autouse=True)
def _clean_cache():
    """Rate limits, lockouts and throttles count in the cache: every test starts from none."""
    cache.clear()
    yield
    cache.clear()


def pytest_collection_modifyitems(config, items):
    skip_own_database(items, engine=settings.DATABASES["default"]["ENGINE"])


def skip_own_database(items, *, engine: str) -> None:
    """A test marked `own_database` does the same whichever database the suite runs on (its
    processes get a SQLite file of their own): CI runs the suite on SQLite and on PostgreSQL
    side by side, and it runs in the SQLite one only."""
    if engine == "wfaib.db_sqlite":
        return
    skip = pytest.mark.skip(reason="own_database: the same on any suite database; run in the "
                                   "SQLite suite")
    for item in items:
        if item.get_closest_marker("own_database"):
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _remove_run_files():
    """Run files go to this process's temporary MEDIA_ROOT (wfaib/settings_test.py); removed
    at the end of the session, by the process that made it only."""
    yield
    if str(settings.MEDIA_ROOT).endswith(f"wfaib-test-media-{os.getpid()}"):
        shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)


@pytest.fixture(autouse=True)
def _background_runs_end_before_the_flush(request):
    """After a transactional test, wait (up to 10 s) for the runs it handed to this process's
    inline pool (a `?wait=false` webhook, a schedule): their last write and the flush's
    TRUNCATE of every table can deadlock on PostgreSQL (CI run 33). Torn down before
    pytest-django's flush, which an earlier-set-up plugin fixture does."""
    yield
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    from runs import dispatch

    inline = dispatch._instances.get("inline")
    if inline is not None:
        inline.drain(timeout=10)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database; at its end the group writer's connection is closed
    first and, on PostgreSQL, every other session still on the database (the inline executor's
    and live servers' threads keep theirs) is ended, so that PostgreSQL can drop it instead of
    leaving it behind with a warning."""
    yield
    from django.db import connection

    from runs.engine import group_writer
    group_writer.close_connections()
    if connection.vendor == "postgresql":
        with django_db_blocker.unblock():
            # A fresh session: a test may have ended this thread's own with pg_terminate_backend
            # (tests/durable ends an engine's connection on purpose; seen once in CI at teardown:
            # "terminating connection due to administrator command", the database left behind).
            connection.close()
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def client_for(db):
    """An API client authenticated with a token of the given user's: client_for(user)."""
    def make(user) -> APIClient:
        client = APIClient()
        _, key = token_create(user=user, name="test")
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return make


@pytest.fixture
def api(user, client_for) -> APIClient:
    return client_for(user)


@pytest.fixture
def other_api(other_user, client_for) -> APIClient:
    return client_for(other_user)


@pytest.fixture
def api_server():
    server = LoopbackServer().start()
    yield server
    server.stop()


@pytest.fixture
def llm_server():
    """A model server speaking the OpenAI and Anthropic wire formats (tests/llm_servers.py)."""
    server = ModelServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def dovecot():
    """Debian's Dovecot as an IMAP server on 127.0.0.1 for this test session (plain and TLS
    listeners, one user): the IMAP credential's check and the IMAP trigger use it."""
    from tests.integrations.mailservers import dovecot_server

    with dovecot_server() as server:
        yield server


@pytest.fixture
def rate_window(settings):
    """Webhook rate limits count in fixed windows: an hour's window here, and the test begins
    at least a minute before it ends, so requests the test expects to be counted together are
    never split by a window's end (two requests a few ms apart across a minute's end: CI)."""
    import time

    window = 3600
    settings.WFAIB = {**settings.WFAIB, "WEBHOOK_RATE_WINDOW": window}
    left = window - time.time() % window
    if left < 60:
        time.sleep(left + 0.01)
    return window
