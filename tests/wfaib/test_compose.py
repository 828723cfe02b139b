"""No Docker engine here: docker-compose.yml is parsed and checked against the project. The
worker and scheduler must not start before the web container has applied the migrations."""

from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.urls import resolve

ROOT = Path(settings.BASE_DIR)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.mark.parametrize("service", ["worker", "scheduler"])
def test_worker_and_scheduler_wait_for_a_healthy_web(compose, service):
    depends = compose["services"][service]["depends_on"]
    assert depends["web"] == {"condition": "service_healthy"}


def test_web_is_healthy_only_once_it_serves_after_migrating(compose):
    web = compose["services"]["web"]
    probe = " ".join(web["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/api/health" in probe
    assert resolve("/api/health").url_name == "health"
    assert web["healthcheck"]["retries"] >= 1
    entry = (ROOT / "scripts" / "docker-entrypoint.sh").read_text()
    web_branch = entry.split("web)", 1)[1].split(";;", 1)[0]
    # migrate runs before the server starts, so serving (healthy) means migrated.
    assert web_branch.index("manage.py migrate") < web_branch.index("exec granian")
    assert '--port "${PORT:-8000}"' in web_branch
    assert web["command"] == ["web"]


def test_web_waits_for_healthy_postgres_and_redis(compose):
    web = compose["services"]["web"]
    assert web["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert web["depends_on"]["redis"] == {"condition": "service_healthy"}
    for name in ("postgres", "redis"):
        assert compose["services"][name]["healthcheck"]["test"]


def test_services_keep_their_data_in_named_volumes_and_run_their_commands(compose):
    services = compose["services"]
    for name in ("postgres", "redis"):
        assert services[name]["volumes"], name
    for service in services.values():
        for volume in service.get("volumes", []):
            assert volume.split(":")[0] in compose["volumes"]
    assert services["worker"]["command"][0] == "worker"
    assert "--max-tasks-per-child" in services["worker"]["command"]
    assert services["scheduler"]["command"] == ["scheduler"]
