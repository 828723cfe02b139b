"""A server process loads the vendor SDKs only when it uses them: the model SDKs (openai,
anthropic: ~100 MB together), boto3, the database node's drivers, Sentry and the OpenTelemetry
SDK with its exporter cost memory and start-up time in every web and worker process that never
calls a model, a bucket or a tracer (bench/RESULTS.md: server RSS). The same holds for numpy
(the vector store's exact search; asteval is imported without it), cryptography (the first
secret sealed or unsealed), httpx2 (the anthropic SDK's client), the XML body parsers and the
QR code of an authenticator enrolment."""

import subprocess
import sys

import pytest
from django.conf import settings

# Loaded at start-up before; each is now imported where it is used. (psycopg is not among
# them: drf-spectacular loads django.contrib.postgres, and with it psycopg, on any database.)
ON_USE = ("openai", "anthropic", "boto3", "botocore", "pymysql", "jsonschema", "sentry_sdk",
          "opentelemetry.sdk", "opentelemetry.exporter", "numpy", "cryptography", "httpx2",
          "xmltodict", "defusedxml", "qrcode")

PROBE = """
import sys, django
django.setup()
import wfaib.wsgi, wfaib.celery, runs.tasks, runs.dispatch, nodes.registry
from django.urls import resolve
resolve("/api/webhook/1")  # the whole URL map, with every view module
from runs.engine.expressions import evaluate
assert evaluate("1 + 2", {{}}) == 3  # the sandbox works without numpy
print(" ".join(sorted(name for name in {names!r} if name in sys.modules)) or "-")
"""


def _loaded_after_start(tmp_path, **extra: str) -> set[str]:
    env = {"PATH": "/usr/bin:/bin", "DEBUG": "1", "WFAIB_SCHEDULER": "off",
           "DJANGO_SETTINGS_MODULE": "wfaib.settings",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", **extra}
    done = subprocess.run([sys.executable, "-c", PROBE.format(names=ON_USE)],
                          cwd=settings.BASE_DIR, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip().splitlines()[-1]
    return set() if line == "-" else set(line.split())


@pytest.mark.slow
@pytest.mark.own_database
def test_a_server_process_starts_without_the_sdks_it_has_not_used(tmp_path):
    assert _loaded_after_start(tmp_path) == set()


@pytest.mark.slow
@pytest.mark.own_database
def test_the_tracing_sdk_loads_when_an_endpoint_is_configured(tmp_path):
    loaded = _loaded_after_start(
        tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9/", OTEL_BSP_EXPORT_TIMEOUT="1")
    assert {"opentelemetry.sdk", "opentelemetry.exporter"} <= loaded


WEB_PROBE = """
import sys, django
django.setup()
import wfaib.wsgi
from django.urls import resolve
resolve("/api/webhook/1")
from runs.dispatch import executor
print(type(executor()).__name__, "celery" in sys.modules, "kombu" in sys.modules)
"""


def _web_process(tmp_path, **extra: str) -> str:
    env = {"PATH": "/usr/bin:/bin", "DEBUG": "1", "WFAIB_SCHEDULER": "off",
           "DJANGO_SETTINGS_MODULE": "wfaib.settings",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", **extra}
    done = subprocess.run([sys.executable, "-c", WEB_PROBE], cwd=settings.BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.slow
@pytest.mark.own_database
def test_a_web_process_running_workflows_inline_never_loads_celery(tmp_path):
    """Celery, kombu and their dependencies (~5 MB and ~120 modules in each web worker) load
    only with the executor that needs them (runs/celery_executor.py)."""
    assert _web_process(tmp_path, WFAIB_EXECUTOR="inline") == "InlineExecutor False False"
    assert _web_process(tmp_path, WFAIB_EXECUTOR="celery") == "CeleryExecutor True True"
