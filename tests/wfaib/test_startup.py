"""A development server's start and its console: each log line once, no warning about the
database being used during app initialization, the scheduler loop started after set-up."""

import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from runs.apps import start_when_ready
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_the_scheduler_starts_only_once_the_app_registry_is_ready():
    ready, started = threading.Event(), threading.Event()
    start_when_ready(started.set, ready)
    assert not started.is_set()  # the registry is still being populated: nothing ran
    ready.set()
    assert started.wait(30)


@pytest.fixture
def dev_server(tmp_path):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DJANGO_", "WFAIB_", "DATABASE_URL", "SECRET_KEY"))}
    env.update(DEBUG="1", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
               WFAIB_SCHEDULER="embedded", PYTHONWARNINGS="default")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env,
                   check=True, timeout=300)
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "manage.py", "runserver", "--noreload",
                                 f"127.0.0.1:{port}"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(600):  # until it answers (or dies), not a timing check
                if proc.poll() is not None:
                    pytest.fail(log.read_text())
                try:
                    urllib.request.urlopen(base + "/api/health", timeout=5)
                    break
                except OSError:
                    threading.Event().wait(0.1)
            yield base, proc, log
        finally:
            proc.terminate()
            proc.wait(30)


@pytest.mark.own_database
def test_dev_server_prints_each_log_line_once_and_no_app_init_warning(dev_server):
    base, proc, log = dev_server
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(base + "/api/nope", timeout=30)
    assert missing.value.code == 404
    proc.terminate()
    proc.wait(30)
    output = log.read_text()
    assert output.count("Not Found: /api/nope") == 1, output
    assert "during app initialization" not in output, output
