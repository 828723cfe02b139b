"""GET /api/health: the database, and the broker when Celery executes runs; 503 when down."""

import socket

import pytest
from django.db import connection
from django.db.utils import OperationalError

from ai.vectors import backend


@pytest.mark.django_db
def test_health_is_ok_with_the_database_up(anon):
    response = anon.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "up"},
                               "vector_store": backend()}
    assert backend() in ("sqlite-vec", "pgvector", "exact")


@pytest.mark.django_db
def test_health_is_503_when_the_database_fails(anon, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = anon.get("/api/health")
    assert response.status_code == 503
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"] == {"database": "down"}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends: nothing listens


@pytest.mark.django_db
def test_health_reports_a_broker_that_is_down(anon, settings):
    settings.WFAIB = {**settings.WFAIB, "EXECUTOR": "celery"}
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{_closed_port()}/3"
    response = anon.get("/api/health")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "up", "broker": "down"}


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="needs Redis on 127.0.0.1:6379")
@pytest.mark.django_db
def test_health_reports_a_broker_that_is_up(anon, settings):
    settings.WFAIB = {**settings.WFAIB, "EXECUTOR": "celery"}
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/3"
    response = anon.get("/api/health")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "up", "broker": "up"}
