"""`manage.py run_scheduler`: the scheduler loop as its own process (distributed set-up).

    python manage.py run_scheduler            # until SIGTERM / Ctrl-C
    python manage.py run_scheduler --once     # one tick (cron jobs, checks)

Fires schedule triggers, recovers runs whose executor died, resumes waiting runs and hands out
queued runs left behind (runs/scheduler.py). Safe to run on several machines at once.
"""

from __future__ import annotations

import signal

from django.core.management.base import BaseCommand

from runs import recovery
from runs.scheduler import Ticker
from wfaib import metrics
from wfaib.conf import wfaib_settings


class Command(BaseCommand):
    help = "Run the scheduler: schedules, the watchdog, due waits and left-behind runs."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="do one tick and exit")
        parser.add_argument("--interval", type=float, default=None,
                            help="seconds between ticks (default: WFAIB_TICK_INTERVAL)")

    def handle(self, *args, **options):
        ticker = Ticker(interval=options["interval"])
        if options["once"]:
            recovery.run_recover_on_startup()
            ticker.tick()
            return
        if wfaib_settings.METRICS_PORT:
            metrics.serve(int(wfaib_settings.METRICS_PORT))
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: ticker.stop())
        self.stdout.write(f"scheduler running (tick every {ticker.interval:g} s)")
        ticker.run_forever()
