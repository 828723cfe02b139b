"""`manage.py prune_audit [--days N]`: delete audit events older than the retention
(WFAIB_AUDIT_RETENTION_DAYS, default 365; 0 keeps everything). The embedded scheduler loop
also prunes once a day; run this from cron when the scheduler is a separate process."""

from django.core.management.base import BaseCommand, CommandError

from audit.services import audit_prune, retention_days


class Command(BaseCommand):
    help = "Delete audit events older than the retention period."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None,
                            help="Keep this many days instead of WFAIB_AUDIT_RETENTION_DAYS.")

    def handle(self, *args, days=None, **options):
        if days is not None and days < 0:
            raise CommandError("--days must be 0 (keep everything) or more")
        keep = retention_days() if days is None else days
        deleted = audit_prune(days=keep)
        if keep <= 0:
            self.stdout.write("Retention is 0 (keep everything): nothing deleted.")
        else:
            self.stdout.write(f"Deleted {deleted} audit event(s) older than {keep} day(s).")
