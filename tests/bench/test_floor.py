"""The floor endpoint writes exactly the rows of a webhook run, and is mounted only on request."""

import subprocess
import sys

import orjson
import pytest
from django.conf import settings

from bench.workflows import hook_pipeline
from runs.models import Run, RunLog
from tests.factories import make_workflow

pytestmark = pytest.mark.django_db


@pytest.mark.urls("tests.bench.urls")
@pytest.mark.parametrize("commits", [1, 2])
def test_floor_writes_one_run_its_logs_and_the_final_update(client, commits):
    workflow = make_workflow(definition=hook_pipeline())
    payload = {"name": "ada", "n": 3}
    for _ in range(3):
        resp = client.post(f"/bench/floor/{workflow.pk}?logs=4&commits={commits}",
                           orjson.dumps(payload), content_type="application/json")
        assert resp.status_code == 200
        assert resp.json() == payload
    runs = Run.objects.filter(workflow=workflow)
    assert runs.count() == 3
    assert set(runs.values_list("status", flat=True)) == {Run.Status.SUCCEEDED}
    assert all(r.result == payload and r.finished_at and r.version_id for r in runs)
    logs = RunLog.objects.filter(run__workflow=workflow)
    assert logs.count() == 12
    assert all(log.output == payload and log.status == RunLog.Status.SUCCEEDED for log in logs)


@pytest.mark.urls("tests.bench.urls")
def test_floor_refuses_bad_input_with_json_errors(client):
    workflow = make_workflow(definition=hook_pipeline())
    bad_json = client.post(f"/bench/floor/{workflow.pk}", b"{nope",
                           content_type="application/json")
    assert bad_json.status_code == 400
    assert bad_json.json()["code"] == "invalid_json"
    bad_query = client.post(f"/bench/floor/{workflow.pk}?logs=1000", b"{}",
                            content_type="application/json")
    assert bad_query.status_code == 400
    assert bad_query.json()["code"] == "invalid_query"
    missing = client.post("/bench/floor/999999", b"{}", content_type="application/json")
    assert missing.status_code == 404
    assert Run.objects.count() == 0


@pytest.mark.parametrize(("flag", "expected"), [(None, "absent"), ("0", "absent"),
                                                 ("1", "mounted")])
def test_floor_is_mounted_only_with_wfaib_bench_1(flag, expected):
    code = ("import django; django.setup()\n"
            "from django.urls import resolve, Resolver404\n"
            "try:\n resolve('/bench/floor/1'); print('mounted')\n"
            "except Resolver404:\n print('absent')")
    env = {"DJANGO_SETTINGS_MODULE": "wfaib.settings_test", "PATH": "/usr/bin:/bin"}
    if flag is not None:
        env["WFAIB_BENCH"] = flag
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=settings.BASE_DIR,
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected
