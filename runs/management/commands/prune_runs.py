"""`manage.py prune_runs [--dry-run] [--workflow ID]`: delete finished runs and their logs
past each workflow's retention (WFAIB_RUN_RETENTION_DAYS / WFAIB_RUN_RETENTION_MAX_RUNS, or the
workflow's own retention_days / retention_max_runs), in short batches; then, on SQLite, give
the freed space back (incremental vacuum). The scheduler loop does the same every
WFAIB_RUN_PRUNE_INTERVAL seconds; run this from cron when WFAIB_RUN_PRUNE_INTERVAL=0."""

from django.core.management.base import BaseCommand, CommandError

from runs.retention import run_prune
from workflows.models import Workflow


class Command(BaseCommand):
    help = "Delete finished runs (and their logs) past the retention policy."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="Only print how many runs of which workflow would be deleted.")
        parser.add_argument("--workflow", type=int, default=None,
                            help="Only this workflow's runs.")

    def handle(self, *args, dry_run=False, workflow=None, **options):
        if workflow is not None and not Workflow.objects.filter(pk=workflow).exists():
            raise CommandError(f"--workflow: no workflow {workflow}")
        result = run_prune(dry_run=dry_run, workflow_id=workflow)
        names = dict(Workflow.objects.filter(pk__in=list(result.by_workflow))
                     .values_list("id", "name"))
        verb = "would delete" if dry_run else "deleted"
        for workflow_id, count in sorted(result.by_workflow.items()):
            self.stdout.write(f"workflow {workflow_id} ({names.get(workflow_id, '?')}): "
                              f"{verb} {count} run(s)")
        logs = "" if dry_run else f" and {result.logs} log(s)"
        self.stdout.write(f"{'Dry run: ' if dry_run else ''}{verb} {result.deleted} run(s)"
                          f"{logs} in total.")
