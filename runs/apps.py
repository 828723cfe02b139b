import os
import sys
import threading
from collections.abc import Callable

from django.apps import AppConfig, apps


def start_when_ready(start: Callable[[], object], ready: threading.Event | None = None) -> None:
    """Call `start` in a thread once the app registry is fully populated: `ready()` runs while
    it is not, and a loop that queried the database then would do so during app
    initialization (Django warns)."""
    ready = ready if ready is not None else apps.ready_event

    def wait_then_start() -> None:
        ready.wait()
        start()

    threading.Thread(target=wait_then_start, name="wfaib-scheduler-start", daemon=True).start()


class RunsConfig(AppConfig):
    name = "runs"
    verbose_name = "Runs"

    def ready(self) -> None:
        # Django's place for start-up wiring (models are loaded by now). The engine reports to
        # services through the hooks installed here; it never imports them.
        from wfaib import logs, metrics, sentry, tracing

        from .engine import hooks, observe
        from .services import ENGINE_HOOKS

        hooks.install(ENGINE_HOOKS)
        # What the engine's one observation point feeds: log context, metrics, trace spans.
        for observer in (logs.LogContextObserver(), metrics.MetricsObserver(),
                         tracing.TracingObserver()):
            observe.install(observer)
        tracing.configure_from_env()  # off unless an OTLP endpoint is configured
        sentry.configure()  # off unless SENTRY_DSN is set

        from . import files

        files.connect()  # a run file's stored bytes go when its row is deleted

        # `manage.py runserver` runs the embedded scheduler loop (watchdog, waits, schedules) in
        # its serving process (with autoreload, the child); WSGI/ASGI servers start it from
        # wfaib/wsgi.py and asgi.py. Other commands (migrate, run_workflow, tests) never do.
        if len(sys.argv) > 1 and sys.argv[1] == "runserver" and (
            os.environ.get("RUN_MAIN") == "true" or "--noreload" in sys.argv
        ):
            from .scheduler import start_embedded  # imports models: only once they are loaded

            start_when_ready(start_embedded)
