"""Run retention (runs/retention.py, manage.py prune_runs): exactly what the policy says goes,
with its logs, and nothing else; SQLite's file stops growing over many prune cycles."""

import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from runs import retention
from runs.files import FileUnavailable, file_open, file_save, file_storage
from runs.models import Run, RunFile, RunLog, ScheduleFire
from runs.scheduler import Ticker
from tests.factories import make_workflow

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def _policy(settings, days=0, max_runs=0, batch=500):
    settings.WFAIB = {**settings.WFAIB, "RUN_RETENTION_DAYS": days,
                      "RUN_RETENTION_MAX_RUNS": max_runs, "RUN_PRUNE_BATCH": batch}


def _runs(workflow, ages_days, status=Run.Status.SUCCEEDED, logs=2, now=NOW):
    """One run per age (days before `now`), each with `logs` run logs; returns their ids."""
    made = Run.objects.bulk_create([
        Run(workflow=workflow, version=workflow.versions.get(number=workflow.version),
            status=status, created_at=now - dt.timedelta(days=age), trigger="manual")
        for age in ages_days])
    RunLog.objects.bulk_create([
        RunLog(run=run, node_id=f"n{i}", node_type="set", status="succeeded")
        for run in made for i in range(logs)])
    return [r.pk for r in made]


def _left(workflow):
    return set(Run.objects.filter(workflow=workflow).values_list("id", flat=True))


def test_age_limit_deletes_only_finished_runs_older_than_it_with_their_logs(settings):
    _policy(settings, days=10)
    wf = make_workflow()
    old = _runs(wf, [11, 30, 400]) + _runs(wf, [12], status=Run.Status.FAILED) \
        + _runs(wf, [13], status=Run.Status.CANCELLED)
    young = _runs(wf, [0, 9, 9.9])
    active = (_runs(wf, [50], status=Run.Status.WAITING) + _runs(wf, [50], status=Run.Status.QUEUED)
              + _runs(wf, [50], status=Run.Status.RUNNING))
    result = retention.run_prune(now=NOW)
    assert result.deleted == len(old) == 5
    assert result.logs == 10
    assert _left(wf) == set(young + active)
    assert not RunLog.objects.filter(run_id__in=old).exists()
    assert RunLog.objects.filter(run_id__in=young + active).count() == 2 * 6


def test_count_cap_keeps_the_newest_finished_runs_per_workflow(settings):
    _policy(settings, max_runs=3, batch=2)  # batches smaller than what goes
    wf, other = make_workflow(), make_workflow()
    runs = _runs(wf, [1, 2, 3, 4, 5, 6, 7])  # newest first
    waiting = _runs(wf, [100], status=Run.Status.WAITING)
    others = _runs(other, [1, 2, 3])
    result = retention.run_prune(now=NOW)
    assert result.deleted == 4
    assert result.by_workflow == {wf.pk: 4}
    assert _left(wf) == set(runs[:3] + waiting)
    assert _left(other) == set(others)


def test_both_rules_delete_the_longer_suffix_and_the_dry_run_counts_the_same(settings):
    _policy(settings, days=5, max_runs=4)
    wf = make_workflow()
    ids = _runs(wf, [1, 2, 3, 6, 7, 8], now=timezone.now())  # age takes 3, the cap 2: 3 go
    out = io.StringIO()
    call_command("prune_runs", "--dry-run", stdout=out)
    assert f"workflow {wf.pk} (wf): would delete 3 run(s)" in out.getvalue()
    assert "Dry run: would delete 3 run(s) in total." in out.getvalue()
    assert _left(wf) == set(ids)  # a dry run deletes nothing
    out = io.StringIO()
    call_command("prune_runs", stdout=out)
    assert "deleted 3 run(s) and 6 log(s) in total." in out.getvalue()
    assert _left(wf) == set(ids[:3])


def test_a_workflow_policy_overrides_the_settings_and_zero_keeps_everything(settings):
    _policy(settings, days=1, max_runs=1)
    keep_all = make_workflow(retention_days=0, retention_max_runs=0)
    own_cap = make_workflow(retention_days=0, retention_max_runs=2)
    own_age = make_workflow(retention_days=100)  # the cap of 1 still applies
    default = make_workflow()
    kept = _runs(keep_all, [5, 50, 500])
    capped = _runs(own_cap, [5, 50, 500])
    aged = _runs(own_age, [5, 50])
    defaulted = _runs(default, [0.5, 5])
    assert retention.run_prune(dry_run=True, now=NOW).by_workflow == {
        own_cap.pk: 1, own_age.pk: 1, default.pk: 1}
    retention.run_prune(now=NOW)
    assert _left(keep_all) == set(kept)
    assert _left(own_cap) == set(capped[:2])
    assert _left(own_age) == {aged[0]}
    assert _left(default) == {defaulted[0]}


def test_pruning_leaves_references_to_deleted_runs_empty(settings):
    _policy(settings, days=1)
    wf = make_workflow()
    parent, retried = _runs(wf, [10, 10])
    child, retry = _runs(wf, [0, 0])
    Run.objects.filter(pk=child).update(parent_run_id=parent)
    Run.objects.filter(pk=retry).update(retry_of_id=retried)
    fire = ScheduleFire.objects.create(workflow=wf, node_id="s", due_at=NOW, run_id=parent)
    retention.run_prune(now=NOW)
    assert Run.objects.get(pk=child).parent_run_id is None
    assert Run.objects.get(pk=retry).retry_of_id is None
    fire.refresh_from_db()
    assert fire.run_id is None


@pytest.mark.django_db(transaction=True)
def test_prune_runs_deletes_the_files_of_the_runs_it_deletes(settings):
    """Each batch's commit deletes the stored bytes of its runs' files (the RunFile
    post_delete receiver, runs/files.py); the files of kept runs stay, readable."""
    _policy(settings, days=10, batch=2)
    wf = make_workflow()
    old, young = _runs(wf, [11, 12, 30], now=timezone.now()), _runs(wf, [1], now=timezone.now())
    refs = {run_id: file_save(run_id=run_id, name=f"report-{run_id}.pdf",
                              data=b"%PDF " + str(run_id).encode(),
                              content_type="application/pdf")
            for run_id in old + young}
    storage = file_storage()
    assert all(storage.exists(ref["key"]) for ref in refs.values())
    out = io.StringIO()
    call_command("prune_runs", stdout=out)
    assert _left(wf) == set(young)
    assert not RunFile.objects.filter(run_id__in=old).exists()
    assert not any(storage.exists(refs[run_id]["key"]) for run_id in old)
    [kept] = young
    assert file_open(refs[kept], project_id=wf.project_id) == b"%PDF " + str(kept).encode()
    with pytest.raises(FileUnavailable):
        file_open(refs[old[0]], project_id=wf.project_id)


def test_the_settings_zero_keep_everything(settings):
    _policy(settings, days=0, max_runs=0)
    wf = make_workflow()
    ids = _runs(wf, [1000, 2000])
    assert retention.run_prune(now=NOW).deleted == 0
    assert _left(wf) == set(ids)


def test_the_scheduler_prunes_every_interval(settings):
    _policy(settings, days=1)
    settings.WFAIB = {**settings.WFAIB, "RUN_PRUNE_INTERVAL": 3600.0}
    retention.reset_schedule()
    wf = make_workflow()
    first = _runs(wf, [5])
    Ticker().tick(now=NOW)
    assert _left(wf) == set()
    second = _runs(wf, [5])
    assert retention.run_prune_if_due(now=NOW + dt.timedelta(minutes=30)) is None
    assert _left(wf) == set(second)
    assert retention.run_prune_if_due(now=NOW + dt.timedelta(hours=1)).deleted == 1
    settings.WFAIB = {**settings.WFAIB, "RUN_PRUNE_INTERVAL": 0.0}
    _runs(wf, [5])
    assert retention.run_prune_if_due(now=NOW + dt.timedelta(hours=3)) is None
    assert first


def test_a_long_pass_stops_at_its_batch_budget_and_goes_on_at_the_next_tick(settings):
    _policy(settings, days=1, batch=2)
    retention.reset_schedule()
    wf = make_workflow()
    _runs(wf, [5] * (2 * retention.MAX_BATCHES_PER_TICK + 3), logs=0)
    first = retention.run_prune_if_due(now=NOW)
    assert first.deleted == 2 * retention.MAX_BATCHES_PER_TICK
    assert not first.complete
    assert retention.run_prune_if_due(now=NOW).deleted == 3
    assert _left(wf) == set()


def test_prune_runs_refuses_an_unknown_workflow():
    with pytest.raises(CommandError, match="--workflow: no workflow 999999"):
        call_command("prune_runs", "--workflow", "999999")


# -- SQLite: the file stops growing ------------------------------------------------------

CYCLES_SCRIPT = r"""
import datetime as dt, json, os, sys
import django
django.setup()
from django.core.management import call_command
from django.db import connection
call_command("migrate", verbosity=0)
from runs.models import Run, RunLog
from runs.retention import run_prune
from tests.factories import make_workflow
with connection.cursor() as c:
    c.execute("PRAGMA auto_vacuum")
    mode = c.fetchone()[0]
wf = make_workflow()
version = wf.versions.get()
old = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
sizes = []
for cycle in range(int(sys.argv[1])):
    runs = Run.objects.bulk_create([Run(workflow=wf, version=version, status="succeeded",
                                        created_at=old, input={"pad": "x" * 2000})
                                    for _ in range(300)])
    RunLog.objects.bulk_create([RunLog(run=r, node_id="n", node_type="set", status="succeeded",
                                       output={"pad": "y" * 3000}) for r in runs])
    result = run_prune()
    assert result.deleted == 300, result
    sizes.append(os.path.getsize(connection.settings_dict["NAME"]))
print(json.dumps({"mode": mode, "sizes": sizes}))
"""


@pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"] != "wfaib.db_sqlite",
                    reason="SQLite's file")
def test_a_sqlite_file_stays_the_same_size_over_many_prune_cycles(tmp_path):
    """A fresh file database (migrated: auto_vacuum=INCREMENTAL), filled with 300 runs and
    600 KB of logs and pruned, ten times over: the file is the same size after each cycle."""
    root = Path(settings.BASE_DIR)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cycles.db'}",
           "DJANGO_SETTINGS_MODULE": "wfaib.settings", "SECRET_KEY": "x",
           "WFAIB_RUN_RETENTION_DAYS": "1", "WFAIB_RUN_PRUNE_BATCH": "100",
           "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", CYCLES_SCRIPT, "10"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["mode"] == 2  # incremental
    sizes = report["sizes"]
    assert len(set(sizes)) == 1, sizes
    # and smaller than what one cycle writes: the space really went back
    assert sizes[0] < 300 * 5000
