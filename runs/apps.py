import os
import sys

from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "runs"
    verbose_name = "Runs"

    def ready(self) -> None:
        # Django's place for start-up wiring (models are loaded by now). The engine reports to
        # services through the hooks installed here; it never imports them.
        from .engine import hooks
        from .services import ENGINE_HOOKS

        hooks.install(ENGINE_HOOKS)

        # `manage.py runserver` runs the embedded scheduler loop (watchdog, waits, schedules) in
        # its serving process (with autoreload, the child); WSGI/ASGI servers start it from
        # wfaib/wsgi.py and asgi.py. Other commands (migrate, run_workflow, tests) never do.
        if len(sys.argv) > 1 and sys.argv[1] == "runserver" and (
            os.environ.get("RUN_MAIN") == "true" or "--noreload" in sys.argv
        ):
            from .scheduler import start_embedded

            start_embedded()
