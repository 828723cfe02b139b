"""The bare stack: the project's apps and database (so the same tables and rows), and nothing
else on the request path: no middleware at all, no DRF, one URL.

    DJANGO_SETTINGS_MODULE=bench.bare_settings granian ... bench.bare_wsgi:application

Serves `POST /bench/floor/<workflow_id>?logs=2` (bench/floor_views.py): one transaction that
inserts a run, bulk-inserts the log rows and updates the run, as the bare app of
/work/shared/notes/performance-floor.md does. `bench throughput` starts it beside the app, so
every figure of the app has its ratio to what the stack itself can do, in the same sitting.
Only for benchmarks: nothing imports it in production.
"""

from wfaib.settings import *  # noqa: F403

MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.bare_urls"
WSGI_APPLICATION = "bench.bare_wsgi.application"
