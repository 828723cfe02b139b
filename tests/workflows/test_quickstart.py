"""The quick start as a newcomer meets it: run scripts/quickstart.sh in a fresh copy of the
project, then paste every command it prints into a fresh shell (no DEBUG, no SECRET_KEY, no
venv activated): each must work, the demo with the server down and up."""

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from tests.servers import free_port

ROOT = Path(settings.BASE_DIR)
SKIP = shutil.ignore_patterns(".git", ".venv", "node_modules", "db.sqlite3*", ".env",
                              "test-artifacts", "frontend", "bench", "__pycache__", "*.egg-info",
                              "staticfiles", ".pytest_cache", ".ruff_cache")
EMAIL, PASSWORD = "ada@example.com", "a long passphrase for ada"

pytestmark = [pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash"),
              pytest.mark.own_database]  # the quickstart runs on SQLite whatever the suite's


def fresh_shell(tmp_path: Path, **extra: str) -> dict[str, str]:
    """What a new terminal has: PATH and HOME, none of the test settings' variables."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), **extra}


def paste(command: str, project: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], cwd=project, env=env, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL, check=False)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A copy of the project with the test venv in place, set up by quickstart.sh."""
    home = tmp_path_factory.mktemp("newcomer")
    project = home / "wfaib"
    shutil.copytree(ROOT, project, ignore=SKIP)
    (project / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    port = free_port()
    done = subprocess.run(
        ["bash", "scripts/quickstart.sh", "--no-install", "--no-serve"], cwd=project,
        env=fresh_shell(home, PORT=str(port), WFAIB_ADMIN_EMAIL=EMAIL,
                        WFAIB_ADMIN_PASSWORD=PASSWORD),
        capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    commands = [line.split("$ ", 1)[1] for line in done.stdout.splitlines()
                if line.startswith("  $ ")]
    return {"dir": project, "home": home, "port": port, "out": done.stdout,
            "commands": commands}


def command(project, name: str) -> str:
    return next(c for c in project["commands"] if name in c)


def test_quickstart_writes_a_dev_env_and_prints_the_port(project):
    env_file = (project["dir"] / ".env").read_text()
    assert "DEBUG=1" in env_file
    assert re.search(r"^SECRET_KEY=\S{40,}$", env_file, re.MULTILINE)
    assert "WFAIB_HTTP_ALLOW=127.0.0.1" in env_file
    assert f"http://127.0.0.1:{project['port']}/" in project["out"]
    assert len(project["commands"]) == 4


def test_the_first_account_was_created_without_a_terminal(project):
    shell = fresh_shell(project["home"])
    check = paste(".venv/bin/python manage.py shell -v0 -c \"from accounts.models import User; "
                  f"u = User.objects.get(email='{EMAIL}'); "
                  f"print(u.is_superuser, u.check_password('{PASSWORD}'))\"",
                  project["dir"], shell)
    assert check.stdout.strip() == "True True", check.stdout + check.stderr


def test_create_admin_as_printed_works_and_refuses_loudly_without_its_variables(project):
    shell = fresh_shell(project["home"])
    printed = command(project, "create_admin").replace("you@example.com", "grace@example.com")
    made = paste(printed, project["dir"], shell)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "Created the superuser grace@example.com" in made.stdout
    again = paste(printed, project["dir"], shell)
    assert again.returncode == 0
    assert "already exists" in again.stdout
    missing = paste(".venv/bin/python manage.py create_admin", project["dir"], shell)
    assert missing.returncode == 1
    assert "WFAIB_ADMIN_EMAIL" in missing.stderr
    weak = paste("WFAIB_ADMIN_EMAIL=bob@example.com WFAIB_ADMIN_PASSWORD=123 "
                 ".venv/bin/python manage.py create_admin", project["dir"], shell)
    assert weak.returncode == 1
    assert "refused" in weak.stderr


def test_createsuperuser_as_printed_starts_without_crashing(project):
    started = paste(command(project, "createsuperuser"), project["dir"],
                    fresh_shell(project["home"]))
    assert "SECRET_KEY" not in started.stdout + started.stderr
    assert "Traceback" not in started.stdout + started.stderr


def test_the_demo_as_printed_runs_with_the_server_down_then_up(project):
    shell = fresh_shell(project["home"])
    down = paste(command(project, "run_workflow"), project["dir"], shell)
    assert down.returncode == 0, down.stdout + down.stderr
    assert re.search(r"^Run \d+ succeeded", down.stdout, re.MULTILINE), down.stdout
    assert "unreachable (start the server" in down.stdout

    port = project["port"]
    server = subprocess.Popen(
        [".venv/bin/python", "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=project["dir"], env=shell, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):  # until it answers (or dies)
            assert server.poll() is None, "the server did not start"
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5)
                break
            except OSError:
                threading.Event().wait(0.1)
        up = paste(command(project, "run_workflow"), project["dir"], shell)
        assert up.returncode == 0, up.stdout + up.stderr
        assert '"server_status": "ok"' in up.stdout
        hook = paste(command(project, "curl"), project["dir"], shell)
        assert hook.returncode == 0, hook.stderr
        answer = json.loads(hook.stdout)
        assert answer["status"] == "succeeded", answer
        assert answer["result"]["greeting"] == "Hello, Ada!"
    finally:
        server.terminate()
        server.wait(30)


def test_the_readme_tour_shows_the_commands_the_script_prints(project):
    readme = (ROOT / "README.md").read_text()
    tour = readme.split("## A short tour", 1)[1].split("\n## ", 1)[0]
    quoted = [c for c in re.findall(r"`([^`]+)`", tour) if "manage.py" in c]
    assert quoted
    for text in quoted:
        assert text in project["commands"], text
