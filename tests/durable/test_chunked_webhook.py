"""Issue 17, item 7: a webhook body sent with `Transfer-Encoding: chunked` and no
Content-Length used to start a run with `input: null`. Real servers, real sockets:

- granian (the production server, which de-chunks and sets `wsgi.input_terminated`): the body
  is read, within WFAIB_WEBHOOK_MAX_BODY (413 past it, no run);
- Django's development server (which cannot de-chunk): 411 length_required, no run.

Marked slow: granian is a separate process."""

from __future__ import annotations

import http.client
import json

import pytest

from runs.models import Run
from tests.factories import make_workflow, simple_definition

from .conftest import BIN, free_port, subprocess_env, wait_until

pytestmark = pytest.mark.slow


def send_chunked(host: str, port: int, path: str, chunks: list[bytes]) -> tuple[int, dict]:
    """POST `chunks` with Transfer-Encoding: chunked (http.client frames each chunk)."""
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.putrequest("POST", path)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        try:
            for chunk in chunks:
                conn.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            conn.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered (413) before the whole body was sent
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def up(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/api/health")
        return conn.getresponse().status < 500
    except OSError:
        return False
    finally:
        conn.close()


def test_chunked_body_is_read_by_granian_within_the_limit(shared_db, processes):
    workflow = make_workflow(definition=simple_definition(
        {"id": "out", "type": "transform", "config": {"expression": "input"}}))
    port = free_port()
    processes.start("granian", [str(BIN / "granian"), "--interface", "wsgi", "--host",
                                "127.0.0.1", "--port", str(port), "--workers", "1",
                                "wfaib.wsgi:application"],
                    subprocess_env(shared_db, WFAIB_EXECUTOR="inline",
                                   WFAIB_WEBHOOK_MAX_BODY="1000"))
    wait_until(lambda: up(port), "granian to answer", procs=processes)
    path = f"/api/webhook/{workflow.pk}"

    status, body = send_chunked("127.0.0.1", port, path,
                                [b'{"name": ', b'"Ada", "items": ', b"[1, 2, 3]}"])
    assert status == 200, body
    assert body["result"] == {"name": "Ada", "items": [1, 2, 3]}
    assert Run.objects.get(pk=body["run"]).input == {"name": "Ada", "items": [1, 2, 3]}

    big = [b'{"a": "', b"x" * 600, b"x" * 600, b'"}']  # no Content-Length to check first
    status, body = send_chunked("127.0.0.1", port, path, big)
    assert (status, body["code"]) == (413, "body_too_large")
    assert Run.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_chunked_body_the_server_cannot_read_is_refused_not_dropped(live_server):
    """Django's development server hands Django an empty stream for a chunked body."""
    workflow = make_workflow(definition=simple_definition())
    host, port = live_server.url.removeprefix("http://").split(":")
    status, body = send_chunked(host, int(port), f"/api/webhook/{workflow.pk}",
                                [b'{"name": ', b'"Ada"}'])
    assert (status, body["code"]) == (411, "length_required")
    assert not Run.objects.exists()
