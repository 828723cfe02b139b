"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wfaib.settings")
application = get_asgi_application()

# Embedded set-up: this server process also runs the scheduler loop (runs/scheduler.py).
from runs.scheduler import start_embedded  # noqa: E402

start_embedded()

# The executor WFAIB_EXECUTOR names is made now (with Celery's app and client when it is
# Celery's), so that it is frozen below with the rest instead of made by the first request.
from runs.dispatch import executor  # noqa: E402

executor()

# Everything loaded so far, and the URL map the first request would load, lives as long as the
# process: no collection needs to scan it again.
from wfaib.gc_tuning import freeze_startup  # noqa: E402

freeze_startup(url_map=True)
