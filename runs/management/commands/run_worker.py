"""`manage.py run_worker`: a Celery worker executing runs (WFAIB_EXECUTOR=celery).

    python manage.py run_worker --concurrency 4
    python manage.py run_worker --pool solo      # one run at a time, in this process

Same as `celery -A wfaib worker -Q $CELERY_QUEUE`; extra arguments after `--` go to Celery.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from wfaib.celery import app


class Command(BaseCommand):
    help = "Start a Celery worker that executes workflow runs."

    def add_arguments(self, parser):
        parser.add_argument("--concurrency", type=int, default=None,
                            help="runs executed at once (default: number of CPUs)")
        parser.add_argument("--pool", default="prefork",
                            choices=["prefork", "solo", "threads"],
                            help="Celery execution pool")
        parser.add_argument("--loglevel", default="INFO")
        parser.add_argument("celery_args", nargs="*", help="more Celery worker arguments")

    def handle(self, *args, **options):
        argv = ["worker", "--pool", options["pool"], "--loglevel", options["loglevel"],
                "--queues", settings.CELERY_TASK_DEFAULT_QUEUE]
        if options["concurrency"]:
            argv += ["--concurrency", str(options["concurrency"])]
        app.worker_main(argv=argv + options["celery_args"])
