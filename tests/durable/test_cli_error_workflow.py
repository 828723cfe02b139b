"""`manage.py run_workflow` in a real process: the error workflow of a failed run is not cut
off by the command's exit."""

from __future__ import annotations

import subprocess
import sys

from runs.models import Run
from tests.factories import make_workflow, simple_definition
from workflows.models import Workflow

from .conftest import ROOT, subprocess_env


def test_the_error_workflow_of_a_cli_run_finishes_before_the_command_exits(shared_db,
                                                                           api_server):
    api_server.json("POST", "/alert", {"ok": True})
    handler = make_workflow(name="on-failure", definition=simple_definition(
        {"id": "alert", "type": "http", "config": {
            "method": "POST", "url": api_server.url + "/alert",
            "json_body": "{{ {'failed': trigger.run_id} }}"}}))
    failing = make_workflow(owner=handler.owner, name="breaks", definition=simple_definition(
        {"id": "boom", "type": "transform", "config": {"expression": "1 / 0"}}))
    Workflow.objects.filter(pk=failing.pk).update(error_workflow=handler)

    done = subprocess.run([sys.executable, "manage.py", "run_workflow", "breaks"], cwd=ROOT,
                          env=subprocess_env(shared_db), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "can't create new thread" not in done.stderr, done.stderr
    failed = Run.objects.get(workflow=failing)
    errors = Run.objects.get(workflow=handler)
    assert (failed.status, errors.status, errors.trigger) == ("failed", "succeeded", "error"), \
        errors.error + done.stderr
    assert [r.json() for r in api_server.requests if r.path == "/alert"] == [
        {"failed": failed.pk}]
