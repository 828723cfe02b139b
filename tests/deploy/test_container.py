"""The container's parts, checked without a container engine (none can pull a base image
here): the Dockerfile's shape, and the entry point's commands run as the image runs them —
`migrate`, `web` (granian, answering the image's own HEALTHCHECK command), `scheduler`, and
`worker` against the local Redis."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from tests.servers import free_port

ROOT = Path(settings.BASE_DIR)
ENTRYPOINT = ROOT / "scripts" / "docker-entrypoint.sh"
BIN = Path(sys.executable).parent
# The entrypoint runs on a SQLite file of its own: the suite's database changes nothing.
pytestmark = pytest.mark.own_database


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def test_the_dockerfile_is_multi_stage_slim_non_root_with_a_health_check():
    text = dockerfile()
    stages = re.findall(r"^FROM (\S+)", text, re.MULTILINE)
    assert len(stages) == 2
    assert all(s.endswith("-slim") for s in stages)
    users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert users
    assert users[-1].split(":")[0] not in ("root", "0")
    assert "collectstatic" in text
    assert re.search(r"^HEALTHCHECK .*\n?.*CMD .*/api/health", text, re.MULTILINE)
    assert 'ENTRYPOINT ["wfaib"]' in text
    # every Python package the project ships is copied into the image
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"]["find"]["include"]
    for package in packages:
        assert f"COPY {package.rstrip('*')} ./{package.rstrip('*')}" in text, package


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "SECRET_KEY": "x" * 40,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'container.db'}",
            "DJANGO_SETTINGS_MODULE": "wfaib.settings", "PYTHONPATH": str(ROOT),
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"), **extra}


def _run(args: list[str], env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", str(ENTRYPOINT), *args], cwd=ROOT, env=env, timeout=timeout,
                          capture_output=True, text=True, check=False)


@pytest.mark.slow
def test_the_entrypoint_migrates_serves_and_answers_the_image_health_check(tmp_path):
    env = _env(tmp_path, WFAIB_METRICS_TOKEN="t0ken", WEB_WORKERS="2", WEB_THREADS="4",
               WEB_KILL_TIMEOUT="5",  # the shutdown below is bounded even if a worker hangs
               WEB_HOST="127.0.0.1", MIGRATE_ON_START="0")
    migrated = _run(["migrate"], env)
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    port = free_port()
    web = subprocess.Popen(["sh", str(ENTRYPOINT), "web"], cwd=ROOT,
                           env={**env, "PORT": str(port)}, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert web.poll() is None, web.stderr.read().decode()[-2000:] if web.stderr else ""
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "web did not answer"
            time.sleep(0.5)
        # the image's own HEALTHCHECK command, pointed at this port
        command = json.loads(re.search(r"CMD (\[.*\])", dockerfile().split("HEALTHCHECK", 1)[1])
                             .group(1))
        command = [c.replace(":8000", f":{port}") for c in command]
        assert subprocess.run(command, env=env, timeout=60, check=False).returncode == 0
        # answers of both granian workers are added up (PROMETHEUS_MULTIPROC_DIR)
        for _ in range(12):
            with httpx.Client(timeout=10) as client:  # a connection each: spread over workers
                assert client.post(f"http://127.0.0.1:{port}/api/webhook/987654",
                                   json={}).status_code == 404
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10,
                            headers={"Authorization": "Bearer t0ken"})
        assert metrics.status_code == 200
        assert "wfaib_runs" in metrics.text
        assert 'wfaib_webhook_responses_total{code="404",door="webhook"} 12.0' in metrics.text
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=60)


@pytest.mark.slow
def test_the_entrypoint_runs_the_scheduler_and_a_worker(tmp_path):
    env = _env(tmp_path, CELERY_BROKER_URL="redis://127.0.0.1:6379/13",
               CELERY_QUEUE=f"wfaib-container-{os.getpid()}", WFAIB_EXECUTOR="celery")
    assert _run(["migrate"], env).returncode == 0
    once = _run(["scheduler", "--once"], env)
    assert once.returncode == 0, once.stderr[-2000:]
    worker = subprocess.Popen(["sh", str(ENTRYPOINT), "worker", "--pool", "solo", "--",
                               "--max-tasks-per-child", "10"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True)
    try:
        seen = []
        deadline = time.monotonic() + 120
        assert worker.stdout is not None
        for line in worker.stdout:
            seen.append(line)
            if " ready." in line:
                break
            assert time.monotonic() < deadline, "".join(seen)[-2000:]
        assert any(" ready." in line for line in seen), "".join(seen)[-2000:]
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def test_an_unknown_command_is_run_as_is(tmp_path):
    done = _run(["python", "-c", "import os; print(os.environ['PROMETHEUS_MULTIPROC_DIR'])"],
                _env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path / "metrics")
    assert (tmp_path / "metrics").is_dir()  # made fresh by the entry point
