"""The Helm chart (deploy/helm/wfaib): rendered offline by Helm's own Go engine
(helm-python-sdk, Helm v4 without a helm binary), linted, and every manifest validated against
the Kubernetes schemas (kubernetes-validate, strict: unknown fields fail)."""

from __future__ import annotations

from pathlib import Path

import helm_python as helm
import kubernetes_validate
import pytest
import yaml
from django.conf import settings

CHART = Path(settings.BASE_DIR) / "deploy" / "helm" / "wfaib"
KUBERNETES = "1.33.0"
BASIC = {"secrets": {"secretKey": "k" * 40},
         "externalDatabase": {"url": "postgres://wfaib:pw@db:5432/wfaib"},
         "externalRedis": {"url": "redis://redis:6379/0"}}


def render(values: dict) -> list[dict]:
    rendered = helm.Chart.load(str(CHART)).render(values, name="prod", namespace="wfaib",
                                                  is_install=True)
    docs = []
    for path, text in rendered.items():
        if path.endswith(".yaml"):
            docs += [d for d in yaml.safe_load_all(text) if d]
    return docs


def kinds(docs: list[dict]) -> dict[tuple[str, str], dict]:
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


def container(doc: dict) -> dict:
    (only,) = doc["spec"]["template"]["spec"]["containers"]
    return only


VALUE_SETS = {
    "defaults": BASIC,
    "existing secrets": {"existingSecret": "wfaib-env",
                         "externalDatabase": {"existingSecret": "pg", "existingSecretKey": "url"},
                         "externalRedis": {"existingSecret": "redis"}},
    "no autoscaling, no ingress, no migration job": {
        **BASIC, "worker": {"autoscaling": {"enabled": False}, "replicas": 3},
        "ingress": {"enabled": False}, "migrations": {"enabled": False}},
    "extras": {**BASIC, "extraEnv": [{"name": "WFAIB_TICK_INTERVAL", "value": "2"}],
               "imagePullSecrets": [{"name": "regcred"}], "ingress": {"className": "nginx",
               "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt"}}},
}


@pytest.mark.parametrize("values", VALUE_SETS.values(), ids=VALUE_SETS.keys())
def test_every_manifest_validates_against_the_kubernetes_schemas(values):
    docs = render(values)
    assert docs
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_the_chart_lints_clean():
    report = helm.lint(str(CHART), BASIC, strict=True)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


def test_the_default_release_has_its_parts():
    found = kinds(render(BASIC))
    web = found[("Deployment", "prod-wfaib-web")]
    worker = found[("Deployment", "prod-wfaib-worker")]
    scheduler = found[("Deployment", "prod-wfaib-scheduler")]
    assert scheduler["spec"]["replicas"] == 1
    assert container(scheduler)["args"] == ["scheduler"]
    assert container(web)["readinessProbe"]["httpGet"]["path"] == "/api/health"
    assert "replicas" not in worker["spec"]  # the autoscaler owns it
    hpa = found[("HorizontalPodAutoscaler", "prod-wfaib-worker")]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "prod-wfaib-worker"
    args = container(worker)["args"]
    assert args[args.index("--max-tasks-per-child") + 1] == "200"
    ingress = found[("Ingress", "prod-wfaib")]
    assert ingress["spec"]["tls"] == [{"hosts": ["wfaib.example.com"], "secretName": "wfaib-tls"}]
    job = found[("Job", "prod-wfaib-migrate")]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert container(job)["args"] == ["migrate"]
    config = found[("ConfigMap", "prod-wfaib")]["data"]
    assert config["MIGRATE_ON_START"] == "0"  # the job migrates
    assert config["WFAIB_EXECUTOR"] == "celery"
    secret = found[("Secret", "prod-wfaib")]["stringData"]
    assert secret["CACHE_URL"] == "redis://redis:6379/1"
    for doc in (web, worker, scheduler, job):
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container(doc)["securityContext"]["readOnlyRootFilesystem"] is True


def test_existing_secrets_are_used_and_no_secret_is_made():
    found = kinds(render(VALUE_SETS["existing secrets"]))
    assert not [k for k in found if k[0] == "Secret"]
    web = container(found[("Deployment", "prod-wfaib-web")])
    assert {"secretRef": {"name": "wfaib-env"}} in web["envFrom"]
    env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in web["env"]}
    assert env["DATABASE_URL"] == {"name": "pg", "key": "url"}
    assert env["CELERY_BROKER_URL"] == {"name": "redis", "key": "CELERY_BROKER_URL"}


def test_without_autoscaling_the_worker_count_is_fixed_and_optional_parts_go():
    found = kinds(render(VALUE_SETS["no autoscaling, no ingress, no migration job"]))
    assert found[("Deployment", "prod-wfaib-worker")]["spec"]["replicas"] == 3
    assert not [k for k in found if k[0] in ("HorizontalPodAutoscaler", "Ingress", "Job")]
    assert found[("ConfigMap", "prod-wfaib")]["data"]["MIGRATE_ON_START"] == "1"


def test_a_missing_secret_key_is_refused_with_its_name():
    with pytest.raises(helm.HelmError, match="secrets.secretKey"):
        render({})
