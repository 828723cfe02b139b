"""`/metrics` (wfaib/metrics.py): closed unless a token or an address permits it; the counters
move after a run, in one process and added up across two (prometheus_client multiprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from runs.models import Run
from tests.factories import make_workflow, run_now, simple_definition
from tests.servers import free_port
from wfaib import metrics

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-0123456789"


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def scrape(client: Client | None = None) -> dict:
    response = (client or Client()).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return samples(response.content.decode())


@pytest.fixture
def open_metrics(settings):
    settings.WFAIB = {**settings.WFAIB, "METRICS_TOKEN": TOKEN}


def test_metrics_are_off_without_a_token_or_an_allowlist():
    response = Client().get("/metrics")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("header", ["", "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x",
                                    "Bearer ", f"bearer{TOKEN}"])
def test_a_missing_or_wrong_token_is_403_and_names_no_secret(open_metrics, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = Client().get("/metrics", **extra)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert TOKEN not in response.content.decode()


def test_the_allowlist_admits_addresses_in_it_and_ignores_bad_entries(settings):
    settings.WFAIB = {**settings.WFAIB, "METRICS_ALLOW": ["not a network", "10.0.0.0/8"]}
    assert Client().get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert Client().get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    settings.WFAIB = {**settings.WFAIB, "METRICS_ALLOW": ["127.0.0.1"]}
    assert Client().get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert Client().post("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 405


def test_counters_move_after_a_run(open_metrics):
    wf = make_workflow(definition=simple_definition(
        {"id": "t", "type": "transform", "config": {"expression": "input"}}))
    before = scrape()
    run = run_now(wf, input={"a": 1})
    assert run.status == Run.Status.SUCCEEDED
    after = scrape()
    wid = str(wf.pk)
    assert value(after, "wfaib_runs_started_total", workflow_id=wid, trigger="manual") == \
        value(before, "wfaib_runs_started_total", workflow_id=wid, trigger="manual") + 1
    assert value(after, "wfaib_runs_finished_total", workflow_id=wid, status="succeeded") == \
        value(before, "wfaib_runs_finished_total", workflow_id=wid, status="succeeded") + 1
    for node_type in ("webhook", "transform"):
        labels = {"node_type": node_type, "status": "succeeded"}
        assert value(after, "wfaib_node_duration_seconds_count", **labels) == \
            value(before, "wfaib_node_duration_seconds_count", **labels) + 1
    assert value(after, "wfaib_run_duration_seconds_count", status="succeeded") == \
        value(before, "wfaib_run_duration_seconds_count", status="succeeded") + 1
    assert value(after, "wfaib_executions_in_progress", executor="inline") == 0


def test_the_kept_label_children_are_the_metrics_own_and_keep_counting(open_metrics):
    """Children are looked up once (metrics._labelled): the second and third runs count on the
    same child, which is the one labels() gives and the scrape reads."""
    wf = make_workflow(definition=simple_definition(
        {"id": "t", "type": "transform", "config": {"expression": "input"}}))
    before = scrape()
    for n in range(3):
        assert run_now(wf, input={"n": n}).status == Run.Status.SUCCEEDED
    after = scrape()
    wid = str(wf.pk)
    assert value(after, "wfaib_runs_started_total", workflow_id=wid, trigger="manual") == \
        value(before, "wfaib_runs_started_total", workflow_id=wid, trigger="manual") + 3
    labels = {"node_type": "transform", "status": "succeeded"}
    assert value(after, "wfaib_node_duration_seconds_count", **labels) == \
        value(before, "wfaib_node_duration_seconds_count", **labels) + 3
    assert metrics._labelled(metrics.RUNS_STARTED, wid, "manual") is \
        metrics.RUNS_STARTED.labels(wid, "manual")
    assert metrics._labelled(metrics.RUNS_STARTED, wid, "api") is not \
        metrics._labelled(metrics.RUNS_STARTED, wid, "manual")
    assert value(after, "wfaib_executions_in_progress", executor="inline") == 0


def test_an_execution_is_busy_while_it_lasts_and_counted_as_started_once(open_metrics):
    wf = make_workflow(definition=simple_definition(
        {"id": "t", "type": "transform", "config": {"expression": "input"}}))
    run = run_now(wf, input={})
    busy = metrics._labelled(metrics.EXECUTIONS_BUSY, "inline")
    started = metrics._labelled(metrics.RUNS_STARTED, str(wf.pk), "manual")
    was_busy, was_started = busy._value.get(), started._value.get()
    observer = metrics.MetricsObserver()
    run.executions = 2  # resumed after a restart: busy again, started no more
    with observer.execution(run):
        assert busy._value.get() == was_busy + 1
    assert busy._value.get() == was_busy
    assert started._value.get() == was_started
    run.executions = 1
    with pytest.raises(RuntimeError), observer.execution(run):
        raise RuntimeError("the engine's error passes through")
    assert busy._value.get() == was_busy
    assert started._value.get() == was_started + 1


def test_a_failed_node_and_waiting_runs_are_counted(open_metrics):
    failing = make_workflow(definition=simple_definition(
        {"id": "bad", "type": "transform", "config": {"expression": "1/0"}}))
    before = scrape()
    assert run_now(failing).status == Run.Status.FAILED
    Run.objects.create(workflow=failing, version=failing.versions.get(), status="waiting")
    after = scrape()
    labels = {"node_type": "transform", "status": "failed"}
    assert value(after, "wfaib_node_duration_seconds_count", **labels) == \
        value(before, "wfaib_node_duration_seconds_count", **labels) + 1
    # A delta: another test in this process may have counted a workflow with the same id.
    finished = {"workflow_id": str(failing.pk), "status": "failed"}
    assert value(after, "wfaib_runs_finished_total", **finished) == \
        value(before, "wfaib_runs_finished_total", **finished) + 1
    assert value(after, "wfaib_runs", status="waiting") == 1
    assert value(after, "wfaib_runs", status="queued") == 0


def test_webhook_answers_and_rate_limit_refusals_are_counted(open_metrics, settings,
                                                            rate_window):
    settings.WFAIB = {**settings.WFAIB, "WEBHOOK_RATE_PER_CLIENT": 1}
    before = scrape()
    client = Client()
    assert client.post("/api/webhook/987654", {}, content_type="application/json"
                       ).status_code == 404
    assert client.post("/api/webhook/987654", {}, content_type="application/json"
                       ).status_code == 429
    after = scrape()
    for code in ("404", "429"):
        assert value(after, "wfaib_webhook_responses_total", door="webhook", code=code) == \
            value(before, "wfaib_webhook_responses_total", door="webhook", code=code) + 1
    assert value(after, "wfaib_rate_limit_refusals_total", scope="webhook") == \
        value(before, "wfaib_rate_limit_refusals_total", scope="webhook") + 1


def test_llm_usage_is_counted(open_metrics):
    before = scrape()
    metrics.record_llm_usage(provider="openai", model="m-test", input_tokens=12,
                             output_tokens=30, cost_usd=0.25)
    after = scrape()
    assert value(after, "wfaib_llm_tokens_total", provider="openai", model="m-test",
                 kind="input") == value(before, "wfaib_llm_tokens_total", provider="openai",
                                        model="m-test", kind="input") + 12
    assert value(after, "wfaib_llm_cost_usd_total", provider="openai", model="m-test") == \
        value(before, "wfaib_llm_cost_usd_total", provider="openai", model="m-test") + 0.25


def test_the_ledger_s_model_calls_move_the_llm_counters(open_metrics, llm_server, settings):
    """An llm node's calls reach the counters through the engine (the ledger's observer),
    with the usage the server reported and the cost the ledger estimated."""
    settings.WFAIB = {**settings.WFAIB, "LLM_PRICES": {
        "metrics-model": {"input": 2.0, "output": 8.0, "cached_input": 0.5}}}
    llm_server.reply("one", prompt_tokens=100, completion_tokens=10, cached_tokens=40)
    llm_server.reply("two", prompt_tokens=50, completion_tokens=5)
    labels = {"provider": "openai", "model": "metrics-model"}
    before = scrape()
    ask = {"type": "llm", "config": {"prompt": "{{ trigger.q }}", "base_url": llm_server.url +
                                     "/v1", "api_key": "sk-test", "model": "metrics-model"}}
    run = run_now(make_workflow(definition=simple_definition({"id": "a", **ask},
                                                             {"id": "b", **ask})),
                  input={"q": "hi"})
    assert run.status == "succeeded", run.error
    after = scrape()

    def moved(name, **extra):
        return value(after, name, **labels, **extra) - value(before, name, **labels, **extra)

    assert moved("wfaib_llm_requests_total") == 2
    assert moved("wfaib_llm_tokens_total", kind="input") == 150 == run.prompt_tokens
    assert moved("wfaib_llm_tokens_total", kind="output") == 15 == run.completion_tokens
    assert moved("wfaib_llm_tokens_total", kind="cached") == 40
    assert moved("wfaib_llm_cost_usd_total") == pytest.approx(float(run.cost))
    assert run.cost > 0


WORKER_SCRIPT = r"""
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from tests.factories import make_workflow, run_now, simple_definition
from tests.servers import free_port
from wfaib.metrics import record_llm_usage
wf = make_workflow(definition=simple_definition(
    {"id": "t", "type": "transform", "config": {"expression": "input"}}))
assert run_now(wf).status == "succeeded"
record_llm_usage(provider="openai", model="m", input_tokens=5)
"""


@pytest.mark.slow
@pytest.mark.own_database
def test_counters_add_up_across_two_processes(tmp_path):
    """Two worker processes (each its own database) with one PROMETHEUS_MULTIPROC_DIR: the
    scrape adds their counters up."""
    metrics_dir = tmp_path / "prom"
    metrics_dir.mkdir()
    root = Path(settings.BASE_DIR)
    procs = []
    for n in range(2):
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
               "DATABASE_URL": f"sqlite:///{tmp_path / f'w{n}.db'}",
               "DJANGO_SETTINGS_MODULE": "wfaib.settings", "SECRET_KEY": "x",
               "PYTHONPATH": str(root)}
        procs.append(subprocess.Popen([sys.executable, "-c", WORKER_SCRIPT], cwd=root, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()[-3000:]
    assert len(list(metrics_dir.glob("*.db"))) >= 2  # one file per process and kind
    found = samples(metrics.exposition(str(metrics_dir), database=False).decode())
    # both databases numbered their workflow 1
    assert value(found, "wfaib_runs_started_total", workflow_id="1", trigger="manual") == 2
    assert value(found, "wfaib_runs_finished_total", workflow_id="1", status="succeeded") == 2
    assert value(found, "wfaib_node_duration_seconds_count", node_type="transform",
                 status="succeeded") == 2
    assert value(found, "wfaib_llm_tokens_total", provider="openai", model="m",
                 kind="input") == 10


def test_a_worker_serves_its_values_on_the_metrics_port():
    metrics.record_llm_usage(provider="served", model="m", input_tokens=3)
    port = free_port()
    metrics.serve(port, addr="127.0.0.1")
    found = samples(httpx.get(f"http://127.0.0.1:{port}/metrics").text)
    assert value(found, "wfaib_llm_tokens_total", provider="served", model="m",
                 kind="input") >= 3


def test_the_grafana_dashboard_plots_only_metrics_that_exist():
    import json
    import re

    import yaml

    root = Path(settings.BASE_DIR) / "deploy"
    dashboard = json.loads((root / "grafana" / "wfaib-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {re.sub(r"_(total|bucket|count|sum)$", "", name)
            for expr in exprs for name in re.findall(r"wfaib_[a-z_]+", expr)}
    known = {family.name for family in metrics.REGISTRY.collect()} | {"wfaib_runs"}
    known |= {name.removesuffix("_total") for name in known}
    assert used
    assert used <= known, used - known
    plotted = {name for name in known if name.startswith("wfaib_")}
    assert plotted <= used, f"metrics without a panel: {plotted - used}"
    scrape = yaml.safe_load((root / "prometheus" / "prometheus.yml").read_text())
    assert {job["job_name"] for job in scrape["scrape_configs"]} == {"wfaib-web", "wfaib-workers"}
