"""On PostgreSQL, parameters are bound on the server and a statement a connection repeats is
prepared there (wfaib/settings.py: POSTGRES_SERVER_BINDING, POSTGRES_PREPARE_THRESHOLD). The
settings are read in a fresh interpreter; the preparing itself is checked on the live
connection when the suite runs on PostgreSQL."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from runs.models import Run

ROOT = Path(__file__).resolve().parents[2]
PROBE = ("import django, json; django.setup(); from django.conf import settings; "
         "o = settings.DATABASES['default']['OPTIONS']; "
         "print(json.dumps([o.get('server_side_binding'), o.get('prepare_threshold')]))")


def options(**env):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("POSTGRES_")}
    environ.update(DJANGO_SETTINGS_MODULE="wfaib.settings", DEBUG="1",
                   DATABASE_URL="postgres://postgres@127.0.0.1:5432/wfaib_unused", **env)
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=environ,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_server_binding_and_preparing_by_default():
    assert options() == [True, 5]


def test_each_can_be_turned_off_for_a_pooler_or_set():
    assert options(POSTGRES_PREPARE_THRESHOLD="") == [True, None]
    assert options(POSTGRES_PREPARE_THRESHOLD="0") == [True, 0]
    assert options(POSTGRES_SERVER_BINDING="0") == [False, 5]


@pytest.mark.parametrize("bad", ["often", "-1", "5; DROP TABLE runs_run"])
def test_a_bad_threshold_is_refused_at_start_naming_the_variable(bad):
    with pytest.raises(subprocess.CalledProcessError) as failed:
        options(POSTGRES_PREPARE_THRESHOLD=bad)
    assert "ImproperlyConfigured: POSTGRES_PREPARE_THRESHOLD=" in failed.value.stderr


def test_sqlite_gets_neither_option():
    environ = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environ.update(DJANGO_SETTINGS_MODULE="wfaib.settings", DEBUG="1",
                   DATABASE_URL="sqlite:///unused.sqlite3")
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=environ,
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [None, None]


@pytest.mark.django_db
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL only")
def test_a_repeated_query_is_prepared_on_the_server_and_still_binds_its_values():
    threshold = connection.settings_dict["OPTIONS"]["prepare_threshold"]
    for pk in range(threshold + 2):
        # values that would break a statement pasted together on the client stay values
        assert Run.objects.filter(pk=pk, error=f"x'); DROP TABLE runs_run; --{pk}").first() \
            is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any('FROM "runs_run"' in statement and "$1" in statement for statement in prepared)
    assert Run.objects.count() == 0  # the table is still there
