"""Point a benchmark process at a fresh database and set Django up on it.

    env = prepare("sqlite", "engine")   # fresh SQLite file (WAL) or PostgreSQL db, migrated
    # ... Django is set up; `env` is the environment a server subprocess needs for the same DB

Each benchmark runs in its own process because Django can be configured only once per process;
`python -m bench all` starts one per benchmark. PostgreSQL databases are named
`wfaib_bench_<name>` (dropped and re-created); SQLite files live in a temporary directory.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_BASE = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
BENCH_REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")

# Environment every benchmark process (and the servers it starts) runs with: production
# settings (DEBUG off), quiet logs, loopback allowed for runs that call this machine.
BASE_ENV = {
    "DJANGO_SETTINGS_MODULE": "wfaib.settings",
    "SECRET_KEY": "bench-secret-key-not-for-production",
    "DEBUG": "0",
    "LOG_LEVEL": "ERROR",
    "WFAIB_BENCH": "1",
    "WFAIB_HTTP_ALLOW": "127.0.0.1",
    "WFAIB_FAST_PASSWORD_HASHER": "1",
    "CELERY_BROKER_URL": BENCH_REDIS,
    # A load test is one client hammering one workflow: the webhook's rate limits are off.
    "WFAIB_WEBHOOK_RATE_PER_WORKFLOW": "0",
    "WFAIB_WEBHOOK_RATE_PER_CLIENT": "0",
}


def database_url(kind: str, name: str) -> str:
    """A fresh, empty database of `kind` ("sqlite" or "postgres") for benchmark `name`."""
    if kind == "sqlite":
        directory = Path(tempfile.mkdtemp(prefix=f"wfaib_bench_{name}_"))
        return f"sqlite:///{directory / 'bench.sqlite3'}"
    if kind == "postgres":
        import psycopg

        db = f"wfaib_bench_{name}"
        with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{db}"')
        return f"{PG_BASE}/{db}"
    raise SystemExit(f"unknown database kind {kind!r} (sqlite or postgres)")


def prepare(kind: str, name: str, **extra_env: str) -> dict[str, str]:
    """Create and migrate a fresh database, set Django up on it in this process, and return the
    environment for subprocesses that must use the same database."""
    env = {**BASE_ENV, "DATABASE_URL": database_url(kind, name), **extra_env}
    os.environ.update(env)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from wfaib.gc_tuning import freeze_startup

    freeze_startup()  # as the server and worker processes do (wfaib/gc_tuning.py)
    return {**os.environ, **env}


def drop(kind: str, name: str) -> None:
    """Remove a PostgreSQL benchmark database (SQLite files are left in the temp dir)."""
    if kind != "postgres":
        return
    from django.db import connections

    connections.close_all()
    import psycopg

    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "wfaib_bench_{name}" WITH (FORCE)')


def bench_user():
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(email="bench@example.com")
    return user
