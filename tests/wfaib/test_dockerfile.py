"""No Docker engine here: the Dockerfile is checked by reading it against the project."""

from pathlib import Path

from django.apps import apps
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def test_dockerfile_copies_every_project_app_and_what_the_server_needs():
    text = (ROOT / "Dockerfile").read_text()
    local_apps = {Path(app.path).relative_to(ROOT).parts[0] for app in apps.get_app_configs()
                  if Path(app.path).is_relative_to(ROOT) and "site-packages" not in app.path}
    needed = local_apps | {"wfaib", "templates", "static", "manage.py", "pyproject.toml"}
    copied = {line.split()[1].rstrip("/") for line in text.splitlines()
              if line.startswith("COPY ")}
    assert needed - copied == set()


def test_entrypoint_commands_exist():
    entry = (ROOT / "scripts" / "docker-entrypoint.sh").read_text()
    commands = ROOT / "runs" / "management" / "commands"
    for command in ("run_worker", "run_scheduler"):
        assert f"manage.py {command}" in entry
        assert (commands / f"{command}.py").exists()


def test_the_web_command_bounds_its_shutdown():
    """A granian worker can hang in its shutdown (emmett-framework/granian#875): the web
    command kills a worker that has not stopped WEB_KILL_TIMEOUT seconds after SIGTERM, so the
    container stops instead of waiting for its orchestrator's SIGKILL."""
    entry = (ROOT / "scripts" / "docker-entrypoint.sh").read_text()
    assert '--workers-kill-timeout "${WEB_KILL_TIMEOUT:-20}"' in entry
    documented = (ROOT / "README.md").read_text() + (ROOT / ".env.example").read_text()
    assert documented.count("WEB_KILL_TIMEOUT") >= 2
