"""Structured logs (wfaib/logs.py): JSON lines carrying the request, run and node ids; readable
console lines; secrets masked before they are formatted."""

from __future__ import annotations

import io
import json
import logging
import re
from typing import Any

import pytest
from django.test import Client

from nodes.base import NodeConfig, NodeType
from nodes.registry import registry
from tests.factories import make_workflow, run_now, simple_definition
from wfaib.logs import ConsoleFormatter, ContextFilter, JsonFormatter
from wfaib.masking import MaskingFilter


class _Speaks(NodeType):
    type = "test_speaks"
    label = "Speaks"
    category = "data"
    description = "Logs a line through ctx.log."
    Config = NodeConfig
    pure = True

    def run(self, ctx: Any, config: Any, input: Any) -> Any:
        ctx.log("hello from %s with Bearer sk-secret-123", "a node")
        logging.getLogger("wfaib.test").warning("a plain warning")
        return input


@pytest.fixture
def captured():
    """A handler configured as settings.LOGGING configures the console one."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskingFilter())
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream, handler
    root.removeHandler(handler)
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


@pytest.mark.django_db
def test_a_node_s_log_lines_are_json_with_its_run_and_node_ids(captured):
    stream, _handler = captured
    with registry.temporarily(_Speaks):
        wf = make_workflow(definition=simple_definition(
            {"id": "speaker", "type": "test_speaks", "config": {}}))
        run = run_now(wf)
    assert run.status == "succeeded", run.error
    found = [line for line in lines(stream) if line["logger"] in ("wfaib.nodes", "wfaib.test")]
    assert len(found) == 2
    for line in found:
        assert line["run_id"] == run.pk
        assert line["workflow_id"] == wf.pk
        assert line["node_id"] == "speaker"
        assert line["node_type"] == "test_speaks"
        assert {"time", "level", "message"} <= set(line)
    assert found[0]["message"].endswith("hello from a node with Bearer ********")
    assert "sk-secret-123" not in stream.getvalue()


@pytest.mark.django_db
def test_a_request_s_log_lines_carry_its_request_id_which_the_answer_echoes(captured):
    stream, _handler = captured
    answer = Client().post("/api/webhook/987654", {}, content_type="application/json",
                           headers={"X-Request-ID": "req-42"})
    assert answer["X-Request-ID"] == "req-42"
    refusal = [line for line in lines(stream) if line["logger"] == "wfaib.webhooks"]
    assert refusal
    assert refusal[0]["request_id"] == "req-42"
    # a request id that is not a plain token is replaced, not echoed
    bad = Client().get("/api/health", headers={"X-Request-ID": "x" * 65 + "\r\nInjected: 1"})
    assert len(bad["X-Request-ID"]) == 32
    assert "Injected" not in bad["X-Request-ID"]
    # made up when none is sent: 32 hex digits, a new one each time
    made = {Client().get("/api/health")["X-Request-ID"] for _ in range(20)}
    assert len(made) == 20
    assert all(re.fullmatch(r"[0-9a-f]{32}", one) for one in made)


def test_console_lines_are_readable_with_the_ids():
    record = logging.LogRecord("wfaib.engine", logging.ERROR, __file__, 1, "run %s broke",
                               (7,), None)
    record.run_id, record.node_id = 7, "http1"
    text = ConsoleFormatter().format(record)
    assert text.endswith("ERROR wfaib.engine [run=7 node=http1] run 7 broke")


def test_production_logs_are_json_unless_configured(settings):
    assert settings.LOGGING["handlers"]["console"]["formatter"] == (
        "console" if settings.DEBUG else "json")
    assert "context" in settings.LOGGING["handlers"]["console"]["filters"]
