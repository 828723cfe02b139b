"""`manage.py poll_imap`: poll every `imap` trigger of the active workflows once, now.

    python manage.py poll_imap                 # every trigger, whatever its interval
    python manage.py poll_imap --workflow 12   # the triggers of one workflow

The scheduler loop (`run_scheduler`, or the embedded one) polls them on their interval by
itself; this command is for cron set-ups without a scheduler and for checking a mailbox.
Exits 1 when a poll failed.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from runs.imap_trigger import MailPoller


class Command(BaseCommand):
    help = "Poll the imap triggers once: one run per new message."

    def add_arguments(self, parser):
        parser.add_argument("--workflow", type=int, default=None,
                            help="only the triggers of this workflow id")

    def handle(self, *args, **options):
        outcomes = MailPoller().poll_all(options["workflow"])
        failed = False
        for outcome in outcomes:
            where = f"workflow {outcome.workflow_id} node {outcome.node_id!r}"
            if outcome.error:
                failed = True
                self.stderr.write(f"{where}: {outcome.error}")
            else:
                self.stdout.write(f"{where}: {len(outcome.runs)} new message(s)"
                                  + (f", runs {', '.join(map(str, outcome.runs))}"
                                     if outcome.runs else ""))
        if not outcomes:
            self.stdout.write("no active workflow has an imap trigger")
        if failed:
            sys.exit(1)
