"""`manage.py import_n8n FILE [--project ID] [--as EMAIL] [--map N8N_ID=ID] [--dry-run]`:
create a workflow from an n8n export and print the report (what was not converted and why)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.access import can
from accounts.models import Project, User
from wfaib.errors import DomainError
from workflows.n8n_import import MAX_FILE_BYTES, convert, workflow_import_n8n


class Command(BaseCommand):
    help = "Import an n8n workflow export (JSON) as a new, inactive workflow."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The n8n workflow export (.json); - for stdin.")
        parser.add_argument("--project", type=int, help="Project id (default: personal).")
        parser.add_argument("--as", dest="email", help="The importing user (default: the "
                                                        "first superuser).")
        parser.add_argument("--map", action="append", default=[], metavar="N8N_ID=ID",
                            help="An n8n workflow id and the WFAIB workflow it became.")
        parser.add_argument("--dry-run", action="store_true", help="Only convert and report.")
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def _read(self, name: str) -> object:
        path = Path(name)
        if name == "-":
            raw = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        elif not path.is_file():
            raise CommandError(f"{name}: no such file")
        elif path.stat().st_size > MAX_FILE_BYTES:
            raise CommandError(f"{name}: larger than {MAX_FILE_BYTES:,} bytes")
        else:
            raw = path.read_bytes()
        if len(raw) > MAX_FILE_BYTES:
            raise CommandError(f"{name}: larger than {MAX_FILE_BYTES:,} bytes")
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise CommandError(f"{name}: not JSON ({exc})") from None

    def _user(self, email: str | None) -> User:
        user = (User.objects.filter(email__iexact=email).first() if email
                else User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first())
        if user is None:
            raise CommandError(f"no user {email!r}" if email else "no superuser: use --as EMAIL")
        return user

    def _map(self, pairs: list[str]) -> dict[str, int]:
        found = {}
        for pair in pairs:
            n8n_id, _, ours = pair.partition("=")
            if not n8n_id or not ours.isdigit():
                raise CommandError(f"--map {pair!r}: expected N8N_ID=WFAIB_ID")
            found[n8n_id] = int(ours)
        return found

    def handle(self, *args, **options) -> None:
        data = self._read(options["file"])
        workflow_map = self._map(options["map"])
        try:
            if options["dry_run"]:
                report = convert(data, workflow_map=workflow_map).report
                workflow = None
            else:
                user = self._user(options["email"])
                project = None
                if options["project"] is not None:
                    project = Project.objects.filter(pk=options["project"]).first()
                    if project is None or not can(user, "edit", project.pk):
                        raise CommandError(f"{user.email} cannot add workflows to project "
                                           f"{options['project']}")
                workflow, report = workflow_import_n8n(owner=user, data=data, project=project,
                                                       workflow_map=workflow_map)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
            return
        self._print(report)
        if workflow is not None:
            self.stdout.write(f"Created workflow {workflow.pk} ({workflow.name}), inactive.")

    def _print(self, report: dict) -> None:
        s = report["summary"]
        self.stdout.write(f"Nodes: {s['converted']} converted, {s['not_converted']} not "
                          f"converted, {s['dropped']} dropped (of {s['nodes']}); expressions: "
                          f"{s['expressions_converted']} converted, "
                          f"{s['expressions_not_converted']} not.")
        for node in report["nodes"]:
            notes = "; ".join(node["notes"])
            self.stdout.write(f"  [{node['status']}] {node['name']} ({node['n8n_type']})"
                              + (f": {notes}" if notes else ""))
        for expr in report["expressions"]:
            if expr["wfaib"] is None:
                self.stdout.write(f"  expression in {expr['node']} {expr['field']}: "
                                  f"{expr['n8n']!r}: {expr['reason']}")
        for cred in report["credentials"]:
            self.stdout.write(f"  credential to create: {cred['placeholder']!r} "
                              f"(kind {cred['kind']}) for {cred['node']}")
