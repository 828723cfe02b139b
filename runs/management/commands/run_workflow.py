"""`manage.py run_workflow <id-or-name> [--input JSON | --input-file PATH] [--json]
[--as EMAIL]`

Runs a workflow now, in this process, printing each node as it finishes and the result at the
end. Exit code 0 when the run succeeded, 1 when it failed, 2 for bad arguments. Runs the run
handed out meanwhile (its error workflow, with the inline executor) finish before the command
exits; the Celery executor has handed them to its workers already. The operator
running it sees every workflow; `--as EMAIL` acts as that user instead: the name or id is
looked up among the workflows they may see, and the run needs a role that may run it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db.models import Q

from accounts.access import mfa_blocked_projects
from runs.dispatch import executor
from runs.engine.executor import execute_run
from runs.models import Run, RunLog
from runs.selectors import run_as_dict
from runs.services import run_start
from wfaib.gc_tuning import freeze_startup
from wfaib.masking import mask_text
from workflows.models import Workflow
from workflows.selectors import workflows_visible_to

STATUS_MARK = {"succeeded": "ok", "failed": "FAILED", "skipped": "skipped", "waiting": "waiting",
               "started": "started"}


class BadArguments(Exception):
    pass


class Command(BaseCommand):
    help = "Run a workflow now and show every node's status, input, output and duration."

    def add_arguments(self, parser):
        parser.add_argument("workflow", help="workflow id or name")
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--input", help="trigger payload as JSON")
        source.add_argument("--input-file", help="path of a JSON file with the trigger payload")
        parser.add_argument("--json", action="store_true", help="print the whole run as JSON")
        parser.add_argument("--as", dest="as_user", metavar="EMAIL",
                            help="act as this user: only their workflows, only with a role "
                                 "that may run them")

    def handle(self, *args, **options):
        try:
            user = self._user(options.get("as_user"))
            workflow = self._find(options["workflow"], user)
            payload = self._payload(options)
        except BadArguments as exc:
            self.stderr.write(f"error: {exc}")
            sys.exit(2)
        as_json = options["json"]
        freeze_startup()  # a big run's collections skip what the command loaded
        run = run_start(workflow=workflow, input=payload, trigger=Run.Trigger.CLI, execute=False)
        if not as_json:
            self.stdout.write(f"Run {run.pk} of workflow {workflow.pk} {workflow.name!r} "
                              f"(version {run.version.number})")
        execute_run(run.pk, listener=None if as_json else self._print_log)
        # An error workflow started when the run failed executes on the inline pool: an exit
        # now would cut it off ("can't create new thread at interpreter shutdown").
        executor().drain()
        run.refresh_from_db()
        if as_json:
            self.stdout.write(json.dumps(run_as_dict(run), indent=2, default=str))
        else:
            self._print_result(run)
        sys.exit(0 if run.status == Run.Status.SUCCEEDED else 1)

    def _user(self, email: str | None) -> Any:
        if email is None:
            return None
        user = get_user_model().objects.filter(email__iexact=email, is_active=True).first()
        if user is None:
            raise BadArguments(f"no active user {email!r}")
        return user

    def _find(self, ref: str, user: Any = None) -> Workflow:
        visible = Workflow.objects.all() if user is None else workflows_visible_to(user)
        workflow = visible.filter(pk=int(ref)).first() if ref.isdigit() else None
        if workflow is None:
            matches = list(visible.filter(name__iexact=ref)[:2])
            if not matches:
                self._refuse_if_mfa_required(ref, user)
                raise BadArguments(f"no workflow with id or name {ref!r}")
            if len(matches) > 1:
                raise BadArguments(f"several workflows are named {ref!r}; use the id")
            workflow = matches[0]
        if user is not None and not workflows_visible_to(user, "run").filter(
                pk=workflow.pk).exists():
            raise BadArguments(f"{user.email}'s role does not allow running {workflow.name!r}")
        return workflow

    @staticmethod
    def _refuse_if_mfa_required(ref: str, user: Any) -> None:
        """Say why when the workflow is in a project of the user's that requires 2FA they
        have not turned on (its data is hidden from them, as at every other door)."""
        if user is None:
            return
        named = Q(pk=int(ref)) | Q(name__iexact=ref) if ref.isdigit() else Q(name__iexact=ref)
        project = mfa_blocked_projects(user).filter(
            pk__in=Workflow.objects.filter(named).values("project_id")).first()
        if project is not None:
            raise BadArguments(f"project {project.name!r} requires two-factor sign-in: "
                               f"{user.email} must turn it on to run its workflows")

    def _payload(self, options: dict[str, Any]) -> Any:
        text, where = options.get("input"), "--input"
        if options.get("input_file"):
            path = Path(options["input_file"])
            where = str(path)
            try:
                text = path.read_text()
            except OSError as exc:
                raise BadArguments(f"cannot read {path}: {exc.strerror}") from None
        if text is None:
            return {}
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadArguments(f"{where} is not valid JSON: {exc.msg} at line {exc.lineno} "
                               f"column {exc.colno}") from None

    def _print_log(self, log: RunLog) -> None:
        mark = STATUS_MARK.get(log.status, log.status)
        duration = f"{log.duration_ms} ms" if log.duration_ms is not None else ""
        attempt = f" (attempt {log.attempt})" if log.attempt > 1 else ""
        self.stdout.write(f"  {mark:>8}  {log.node_id} [{log.node_type}] {duration}{attempt}")
        if log.status != RunLog.Status.SKIPPED:
            self.stdout.write(f"            input:  {_short(log.input)}")
        if log.status == RunLog.Status.SUCCEEDED:
            self.stdout.write(f"            output: {_short(log.output)}")
        if log.error:
            self.stdout.write(f"            error:  {mask_text(log.error)}")

    def _print_result(self, run: Run) -> None:
        duration = f" in {run.duration_ms} ms" if run.duration_ms is not None else ""
        self.stdout.write(f"Run {run.pk} {run.status}{duration}")
        if run.status == Run.Status.SUCCEEDED:
            self.stdout.write("Result: " + json.dumps(run.result, indent=2, default=str))
        elif run.error:
            self.stdout.write(f"Error: {mask_text(run.error)}")


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + "…"
