""""Test connection" of an s3 credential: head_bucket against moto's standalone S3 server on
127.0.0.1 (boto3 and moto come with the storage node's dependencies)."""

from __future__ import annotations

import pytest

from tests.servers import free_port
from workflows.services import credential_create

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def s3_url():
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(),
                                            verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="AK",
                 aws_secret_access_key="s3-secret-key-1").create_bucket(Bucket="reports")
    yield url
    server.stop()


def check(api, credential):
    response = api.post(f"/api/credentials/{credential.pk}/test", {}, format="json")
    assert response.status_code == 200
    return response.json()


def test_s3_heads_the_bucket(api, user, s3_url):
    data = {"endpoint_url": s3_url, "region": "us-east-1", "bucket": "reports",
            "access_key_id": "AK", "secret_access_key": "s3-secret-key-1"}
    good = credential_create(owner=user, name="s3", kind="s3", data=data)
    assert check(api, good) == {"ok": True, "message": "the bucket 'reports' is reachable"}
    missing = credential_create(owner=user, name="missing", kind="s3",
                                data={**data, "bucket": "no-such-bucket"})
    result = check(api, missing)
    assert result["ok"] is False
    assert "404" in result["message"] or "Not Found" in result["message"]
    assert "s3-secret-key-1" not in result["message"]


def test_an_internal_endpoint_is_refused_by_the_address_policy(api, user, s3_url, settings):
    settings.WFAIB = {**settings.WFAIB, "HTTP_ALLOW": []}
    credential = credential_create(owner=user, name="s3", kind="s3", data={
        "endpoint_url": s3_url, "bucket": "reports", "access_key_id": "AK",
        "secret_access_key": "s3-secret-key-1"})
    result = check(api, credential)
    assert result["ok"] is False
    assert "refused" in result["message"]
