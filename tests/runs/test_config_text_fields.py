"""A config field holding only `{{ template }}` keeps the value's type, but a field typed as
text gets the value's text (as n8n does): `{{ input.x }}` with a number in a `str` field, or in
the HTTP node's `query` (dict[str, str]), does not fail the run."""

from typing import Any

import pytest

from nodes.base import NodeConfig
from nodes.config_fields import text_paths
from nodes.types.http import HttpConfig
from runs.engine.attempts import as_text_where_wanted
from runs.models import Run
from tests.factories import make_workflow, run_now, simple_definition

pytestmark = pytest.mark.django_db


def test_a_number_in_the_http_query_and_url_becomes_text(api_server):
    api_server.json("GET", "/items", {"ok": True})
    node = {"id": "call", "type": "http", "config": {
        "url": api_server.url + "/items", "query": {"x": "{{ input.x }}", "y": "{{ input.y }}"},
        "headers": {"X-Count": "{{ input.x }}"}}}
    run = run_now(make_workflow(definition=simple_definition(node)),
                  input={"x": 5, "y": {"a": [1, True]}})
    assert run.status == Run.Status.SUCCEEDED, run.error
    request = api_server.requests[-1]
    assert request.path.startswith("/items?x=5&y=")
    assert {k.lower(): v for k, v in request.headers.items()}["x-count"] == "5"


def test_a_whole_template_keeps_its_type_where_the_field_takes_it(api_server):
    api_server.json("POST", "/in", {"ok": True})
    node = {"id": "call", "type": "http", "config": {
        "url": api_server.url + "/in", "method": "POST",
        "json_body": "{{ input }}"}}
    run = run_now(make_workflow(definition=simple_definition(node)),
                  input={"t": 7, "n": 1.5, "flag": False})
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert api_server.requests[-1].json() == {"t": 7, "n": 1.5, "flag": False}


class Typed(NodeConfig):
    text: str
    maybe: str | None = None
    number: int | str = 0
    tags: list[str] = []
    anything: Any = None
    flag: bool = False


def coerced(raw: dict, rendered: dict) -> dict:
    class Fake:
        Config = Typed
    return as_text_where_wanted(Fake, raw, rendered)  # type: ignore[arg-type]


def test_only_values_from_templates_in_text_fields_change():
    raw = {"text": "{{ a }}", "maybe": "{{ b }}", "number": "{{ c }}", "tags": ["{{ d }}", 2],
           "anything": "{{ e }}", "flag": "{{ f }}"}
    rendered = {"text": 42, "maybe": None, "number": 3, "tags": [True, 2], "anything": 9,
                "flag": 1}
    result = coerced(raw, rendered)
    # 42 -> "42"; None fits `str | None`; 3 fits `int | str`; a literal 2 (not a template)
    # is left for validation to refuse; Any and bool fields keep the value
    assert result == {"text": "42", "maybe": None, "number": 3, "tags": ["true", 2],
                      "anything": 9, "flag": 1}


def test_the_run_s_own_data_is_not_changed_in_place():
    shared = {"k": 1}
    raw = {"text": "{{ a }}", "tags": "{{ b }}"}
    rendered = {"text": "x", "tags": [shared["k"], shared]}
    result = coerced(raw, rendered)
    assert result["tags"] == ["1", '{"k": 1}']
    assert shared == {"k": 1}
    assert rendered["tags"][0] == 1


def test_text_paths_read_nested_models_and_maps():
    paths = dict(text_paths(HttpConfig, {"url": "u", "query": {"a": 1, "b": "s"},
                                         "accept_status": [200]}))
    assert paths == {("query", "a"): 1}
