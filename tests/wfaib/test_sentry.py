"""Sentry (wfaib/sentry.py): on with SENTRY_DSN, events reach the ingest endpoint (a loopback
server standing in for Sentry) with every secret scrubbed."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from django.conf import settings

from tests.servers import LoopbackServer
from wfaib.sentry import scrub

SCRIPT = r"""
import logging
import django
django.setup()
import sentry_sdk
from wfaib import sentry
assert sentry_sdk.get_client().is_active()
try:
    raise RuntimeError("calling https://user:hunter2@api.example.com/?api_key=k-123 failed")
except RuntimeError:
    password = "local-hunter2"  # a local variable named like a secret
    headers = {"Authorization": "Bearer sk-live-abc"}
    sentry_sdk.capture_exception()
sentry_sdk.flush(timeout=10)
"""


def _events(server: LoopbackServer) -> list[dict]:
    events = []
    for request in server.requests:
        body = request.body
        encoding = {k.lower(): v for k, v in request.headers.items()}.get("content-encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        else:  # the SDK compresses with brotli only when that is installed
            assert encoding in ("", "identity"), encoding
        lines = body.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                events.append(json.loads(payload))
    return events


@pytest.mark.slow
@pytest.mark.own_database
def test_an_error_reaches_sentry_with_its_secrets_scrubbed(tmp_path):
    server = LoopbackServer().start()
    try:
        server.route("POST", "/api/1/envelope/", lambda req: (200, {}, b"{}"))
        root = Path(settings.BASE_DIR)
        env = {**os.environ, "SENTRY_DSN": f"http://publickey@127.0.0.1:{server.port}/1",
               "DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}",
               "DJANGO_SETTINGS_MODULE": "wfaib.settings", "SECRET_KEY": "x",
               "PYTHONPATH": str(root)}
        done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=root, env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        events = _events(server)
    finally:
        server.stop()
    assert len(events) == 1, [r.path for r in server.requests]
    text = json.dumps(events[0])
    assert "RuntimeError" in text
    for secret in ("hunter2", "k-123", "sk-live-abc", "local-hunter2"):
        assert secret not in text, secret
    assert "********" in text


def test_scrub_masks_secret_keys_at_any_depth_and_credentials_in_text():
    event = {"request": {"headers": [["Authorization", "Bearer t"], ["Accept", "*/*"]],
                         "cookies": {"sessionid": "s"}, "url": "https://u:pw@h/x?token=abc"},
             "extra": {"nested": [{"client_secret": "cs", "fine": "ok"}]},
             "message": "Bearer abc.def"}
    scrubbed = scrub(event, None)
    assert scrubbed["request"]["headers"] == [["Authorization", "********"], ["Accept", "*/*"]]
    assert scrubbed["request"]["cookies"] == "********"
    assert "pw" not in scrubbed["request"]["url"]
    assert "abc" not in scrubbed["request"]["url"]
    assert scrubbed["extra"]["nested"] == [{"client_secret": "********", "fine": "ok"}]
    assert scrubbed["message"] == "Bearer ********"
