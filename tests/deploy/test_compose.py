"""docker-compose.yml: it parses, every service starts in health order, data lives in volumes,
and it names exactly the services the README's operations section lists."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_compose_file_starts_everything_in_health_order_with_volumes():
    services = compose()["services"]
    assert set(services) >= {"web", "worker", "scheduler", "postgres", "redis"}
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"]
        assert services[name]["volumes"]
    assert services["web"]["healthcheck"]["test"]
    assert "/api/health" in " ".join(services["web"]["healthcheck"]["test"])
    for name in ("web", "worker", "scheduler"):
        depends = services[name]["depends_on"]
        assert depends, name
        assert all(d["condition"] == "service_healthy" for d in depends.values()), name
    assert services["worker"]["depends_on"] == {"web": {"condition": "service_healthy"}}
    assert services["worker"]["command"][0] == "worker"
    assert services["scheduler"]["command"] == ["scheduler"]
    for service in services.values():
        for volume in service.get("volumes", []):
            assert volume.split(":")[0] in compose()["volumes"]  # named volumes only

