import os
import sqlite3  # noqa: F401

import environ
import pytest
from django.conf import settings
from django.db import connections
from django.test.utils import override_settings

from wfaib import conf as wfaib_conf


@pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"] != "wfaib.db_sqlite",
                    reason="SQLite settings")
@pytest.mark.django_db
def test_sqlite_file_database_uses_wal_and_busy_timeout(tmp_path):
    from wfaib.db_sqlite.base import DatabaseWrapper

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
    read |= {s.env_var for s in wfaib_conf.DECLARED}
    listed = {line.split("=", 1)[0] for line in (root / ".env.example").read_text().splitlines()
              if line and not line.startswith("#")}
    assert read - listed == set()


def test_env_example_gives_each_wfaib_setting_its_declared_default():
    from pathlib import Path

    root = Path(settings.BASE_DIR)
    listed = dict(line.split("=", 1) for line in (root / ".env.example").read_text().splitlines()
                  if line and not line.startswith("#"))
    env = environ.Env()
    for declared in wfaib_conf.DECLARED:
        text = listed[declared.env_var]
        os.environ[declared.env_var] = text
        try:
            parsed = getattr(env, declared.cast)(declared.env_var)
        finally:
            del os.environ[declared.env_var]
        default = declared.default
        assert parsed == default or (text == "" and not default), declared.name


def test_every_wfaib_setting_can_be_set_from_the_environment(monkeypatch):
    monkeypatch.setenv("WFAIB_MAX_LOOP_ITEMS", "7")
    monkeypatch.setenv("WFAIB_HTTP_ALLOW", "a.example,b.example:8080")
    values = wfaib_conf.from_env(environ.Env())
    assert values["MAX_LOOP_ITEMS"] == 7
    assert values["HTTP_ALLOW"] == ["a.example", "b.example:8080"]
    assert set(values) == set(wfaib_conf.DEFAULTS)


def test_wfaib_settings_read_the_current_settings_and_refuse_unknown_keys(settings):
    settings.WFAIB = {**settings.WFAIB, "TICK_INTERVAL": 0.5}
    assert wfaib_conf.wfaib_settings.TICK_INTERVAL == 0.5
    settings.WFAIB = {}
    assert wfaib_conf.wfaib_settings.TICK_INTERVAL == wfaib_conf.DEFAULTS["TICK_INTERVAL"]
    with pytest.raises(AttributeError, match="NO_SUCH"):
        _ = wfaib_conf.wfaib_settings.NO_SUCH


def test_a_kept_value_is_forgotten_when_django_says_the_setting_changed(settings):
    """Values are kept after their first read (Django's lazy settings cost ~1 us a read, and a
    request reads dozens); `setting_changed` (override_settings, pytest-django's fixture)
    drops them, and any other setting's change keeps them."""
    wfaib = wfaib_conf.wfaib_settings
    before = wfaib.TICK_INTERVAL
    assert vars(wfaib)["TICK_INTERVAL"] == before  # kept: the next read skips __getattr__
    with override_settings(WFAIB={**settings.WFAIB, "TICK_INTERVAL": before + 0.25}):
        assert wfaib.TICK_INTERVAL == before + 0.25
        with override_settings(LANGUAGE_CODE="de"):
            assert vars(wfaib)["TICK_INTERVAL"] == before + 0.25
    assert wfaib.TICK_INTERVAL == before


def test_a_value_read_while_another_thread_reloads_is_not_kept(settings, monkeypatch):
    """The old value a reader got just before a reload must not be kept after it."""
    wfaib = wfaib_conf.wfaib_settings
    wfaib.reload()
    old = dict(settings.WFAIB, TICK_INTERVAL=1.5)
    settings.WFAIB = old
    real_get = dict.get

    class Reloading(dict):
        def get(self, key, default=None):  # the reader has its value; the setting changes
            value = real_get(self, key, default)
            settings.WFAIB = {**old, "TICK_INTERVAL": 2.5}
            return value

    settings.WFAIB = Reloading(old)
    assert wfaib.TICK_INTERVAL == 1.5  # what was there when the read began
    assert "TICK_INTERVAL" not in vars(wfaib)
    assert wfaib.TICK_INTERVAL == 2.5


CALL_SITE_DEFAULT = r'WFAIB(", \{\}\))?\.get\(|conf\.get\("[A-Z_]+"'


def test_no_module_reads_wfaib_settings_with_a_call_site_default():
    import re
    from pathlib import Path

    root = Path(settings.BASE_DIR)
    offenders = []
    for app in ("accounts", "audit", "nodes", "runs", "wfaib", "workflows"):
        for path in (root / app).rglob("*.py"):
            text = path.read_text()
            if path.name != "conf.py" and re.search(CALL_SITE_DEFAULT, text):
                offenders.append(str(path.relative_to(root)))
    assert offenders == []


def _media_root_of_a_process(env: dict[str, str]) -> str:
    """MEDIA_ROOT as wfaib/settings_test.py sets it in a new process with this environment."""
    import subprocess
    import sys

    code = "import wfaib.settings_test as s; print(s.MEDIA_ROOT)"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True, cwd=settings.BASE_DIR).stdout.strip()


def test_each_test_worker_has_its_own_run_file_folder():
    """A pytest-xdist worker inherits the controller's environment: it must not share (and at
    its end remove) the controller's run file folder while the other worker still uses it. A
    server the worker starts (same worker id) shares the worker's folder; a folder the caller
    gave is kept."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("MEDIA_ROOT", "WFAIB_TEST_MEDIA_FOR", "PYTEST_XDIST_WORKER")}
    controller = {**base, "MEDIA_ROOT": "/tmp/wfaib-test-media-1", "WFAIB_TEST_MEDIA_FOR": "main"}
    mine = _media_root_of_a_process({**controller, "PYTEST_XDIST_WORKER": "gw7"})
    assert mine != "/tmp/wfaib-test-media-1"
    assert "wfaib-test-media-" in mine
    worker = {**base, "MEDIA_ROOT": mine, "WFAIB_TEST_MEDIA_FOR": "gw7",
              "PYTEST_XDIST_WORKER": "gw7"}
    assert _media_root_of_a_process(worker) == mine
    assert _media_root_of_a_process({**base, "MEDIA_ROOT": "/srv/given"}) == "/srv/given"
    assert "wfaib-test-media-" in _media_root_of_a_process(base)
    assert str(settings.MEDIA_ROOT).endswith(f"-{os.getpid()}") or \
        "WFAIB_TEST_MEDIA_FOR" not in os.environ  # this process's own, unless the caller gave one
