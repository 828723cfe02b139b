"""Settings for the test suite: the real settings, with test-only defaults in the environment."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("WFAIB_FAST_PASSWORD_HASHER", "1")
# Tests talk to real servers on loopback; production's default allowlist is empty (see
# tests/security/test_ssrf.py, which proves the default refuses them).
os.environ.setdefault("WFAIB_HTTP_ALLOW", "127.0.0.1,::1,localhost")
# The whole suite calls the API from 127.0.0.1; the throttle tests set their own rates.
os.environ.setdefault("WFAIB_API_RATE_USER", "100000/min")
os.environ.setdefault("WFAIB_API_RATE_IP", "100000/min")
# Many tests change a workflow with queryset.update() (no signal) between two webhook calls:
# the webhook's workflow cache is off unless a test turns it on (tests/runs/test_webhook_lookup.py).
os.environ.setdefault("WFAIB_WEBHOOK_LOOKUP_CACHE", "0")

# Run files go to a folder of this test process, not the checkout's media/. Each pytest-xdist
# worker makes its own: a worker inherits the environment of the controller (which loads these
# settings first), and a shared folder was removed by the first worker to end while the other
# still used it (tests/conftest.py `_remove_run_files`). The servers a test starts inherit their
# worker's folder (same worker id), so they read and write the same files. A MEDIA_ROOT the
# caller gave is kept.
_MEDIA_FOR = os.environ.get("PYTEST_XDIST_WORKER", "main")
_MEDIA_OWNER = os.environ.get("WFAIB_TEST_MEDIA_FOR", _MEDIA_FOR)
if "MEDIA_ROOT" not in os.environ or _MEDIA_OWNER != _MEDIA_FOR:
    os.environ["MEDIA_ROOT"] = os.path.join(tempfile.gettempdir(),
                                            f"wfaib-test-media-{os.getpid()}")
    os.environ["WFAIB_TEST_MEDIA_FOR"] = _MEDIA_FOR

# Given by the caller's environment (not a .env file, which settings reads below): the servers
# and workers tests/durable starts set it, to keep their connections as production does.
_CONN_MAX_AGE_GIVEN = "CONN_MAX_AGE" in os.environ

from .settings import *  # noqa: E402, F403

# SQLite: a file database (WAL) rather than Django's shared-cache in-memory one, where a read
# in one thread fails at once with "database table is locked" while an executor thread writes.
# One file per test process (pytest-xdist workers add their own suffix).
if DATABASES["default"]["ENGINE"] == "wfaib.db_sqlite":  # noqa: F405
    import tempfile

    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.environ.get("SQLITE_TEST_NAME")
        or os.path.join(tempfile.gettempdir(), f"wfaib-test-{os.getpid()}.sqlite3"),
    }

    # This process points its own connection at other database files during a test
    # (tests/durable's shared_db), which threads holding a kept connection would not follow:
    # here each thread's connection is closed after its work unless CONN_MAX_AGE is given.
    # The servers and workers the durable tests start keep theirs (tests/durable/conftest.py).
    if not _CONN_MAX_AGE_GIVEN:
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
