"""Start-up's objects are frozen out of the garbage collector's scans (wfaib/gc_tuning.py): in
the web server's application module, in each Celery worker process and in run_workflow."""

import subprocess
import sys

import pytest
from django.conf import settings

from wfaib.gc_tuning import freeze_startup


def _frozen_output(code: str, tmp_path, **extra: str) -> str:
    """The last line `code` printed in a new process of this project."""
    env = {"PATH": "/usr/bin:/bin", "DEBUG": "1", "WFAIB_SCHEDULER": "off",
           "DJANGO_SETTINGS_MODULE": "wfaib.settings",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", **extra}
    done = subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def _frozen_after(code: str, tmp_path) -> int:
    return int(_frozen_output(code, tmp_path).split()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("module", ["wfaib.wsgi", "wfaib.asgi"])
@pytest.mark.own_database
def test_the_server_application_freezes_what_it_loaded(module, tmp_path):
    frozen = _frozen_after(f"import gc, {module}; print(gc.get_freeze_count())", tmp_path)
    assert frozen > 50_000  # Django, the apps and their imports: about a hundred thousand


@pytest.mark.slow
@pytest.mark.parametrize("module", ["wfaib.wsgi", "wfaib.asgi"])
@pytest.mark.own_database
def test_the_server_loads_its_url_map_before_the_first_request_and_freezes_it(module, tmp_path):
    """The URLconf, its view modules and the reverse map are loaded at start (not by the first
    request) and frozen with the rest: a collection scans none of them."""
    code = ("import gc, sys\n"
            f"import {module}\n"
            "from django.urls import get_resolver\n"
            "resolver = get_resolver()\n"
            "assert 'wfaib.urls' in sys.modules and 'runs.webhooks.views' in sys.modules\n"
            "assert resolver._populated\n"
            "kept = {id(o) for o in gc.get_objects()}\n"
            "print(sum(id(o) in kept for o in (resolver.url_patterns, resolver.reverse_dict)))")
    assert _frozen_after(code, tmp_path) == 0  # neither is among the collected objects


@pytest.mark.slow
@pytest.mark.parametrize("module", ["wfaib.wsgi", "wfaib.asgi"])
@pytest.mark.parametrize("name", ["inline", "celery"])
@pytest.mark.own_database
def test_the_server_makes_its_executor_before_freezing(module, name, tmp_path):
    """The executor, and with Celery's its app, client and their modules (loaded only for it:
    runs/celery_executor.py), are made at start and frozen, not made by the first request and
    left among the objects every full collection scans."""
    code = ("import gc, sys\n"
            f"import {module}\n"
            "from runs import dispatch\n"
            "made = dispatch._instances.get(dispatch.wfaib_settings.EXECUTOR)\n"
            "assert made is not None, 'no executor made at start'\n"
            "assert made is dispatch.executor()\n"
            "kept = {id(o) for o in gc.get_objects()}\n"
            "mine = [made, vars(made)]\n"
            "if 'celery' in sys.modules:\n"
            "    from wfaib.celery import app\n"
            "    mine += [app, vars(app), sys.modules['celery'].Celery]\n"
            "print(len(mine), sum(id(o) in kept for o in mine))")
    done = _frozen_output(code, tmp_path, WFAIB_EXECUTOR=name)
    assert done == ("2 0" if name == "inline" else "5 0")


@pytest.mark.slow
@pytest.mark.parametrize("signal", ["worker_process_init", "worker_init"])
@pytest.mark.own_database
def test_a_celery_worker_process_freezes_what_it_loaded(tmp_path, signal):
    """A prefork pool process (worker_process_init), and a worker before its pool starts
    (worker_init: a solo worker executes its runs in this very process)."""
    code = ("import gc, django; django.setup()\n"
            f"from celery.signals import {signal}\n"
            "from wfaib.celery import app\n"
            "class Worker:\n"
            "    pool_cls = 'solo'\n"
            "before = gc.get_freeze_count()\n"
            f"{signal}.send(sender=Worker())\n"
            "print(gc.get_freeze_count() - before)")
    assert _frozen_after(code, tmp_path) > 50_000


def test_freeze_startup_collects_garbage_first_and_counts_what_it_froze():
    import gc

    class Cycle:
        pass

    garbage = Cycle()
    garbage.me = garbage  # only a collection frees a cycle
    collected_before = gc.get_stats()[2]["collected"]
    del garbage
    try:
        frozen = freeze_startup()
        # other threads of this process may free a frozen object meanwhile: no equality
        assert frozen > 100_000
        assert gc.get_freeze_count() > 100_000
        assert gc.get_stats()[2]["collected"] > collected_before
        assert not any(type(o) is Cycle for o in gc.get_objects())
    finally:
        gc.unfreeze()  # this test process keeps collecting as before
