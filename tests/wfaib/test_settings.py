import sqlite3  # noqa: F401

import pytest
from django.conf import settings
from django.db import connections
from django.test.utils import override_settings  # noqa: F401


@pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
                    reason="SQLite settings")
@pytest.mark.django_db
def test_sqlite_file_database_uses_wal_and_busy_timeout(tmp_path):
    from django.db.backends.sqlite3.base import DatabaseWrapper

    conf = {**settings.DATABASES["default"], "NAME": str(tmp_path / "x.db")}
    wrapper = DatabaseWrapper(conf, alias="wal_probe")
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
            cursor.execute("PRAGMA busy_timeout")
            assert cursor.fetchone()[0] >= 5000
    finally:
        wrapper.close()
    assert connections["default"]  # the default connection is untouched


def test_env_example_lists_every_variable_read_by_settings():
    import re
    from pathlib import Path

    root = Path(settings.BASE_DIR)
    source = (root / "wfaib" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z0-9_]+)"', source))
    listed = {line.split("=", 1)[0] for line in (root / ".env.example").read_text().splitlines()
              if line and not line.startswith("#")}
    assert read - listed == set()
