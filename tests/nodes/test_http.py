import pytest

from runs.models import Run
from tests.factories import make_workflow, run_now, simple_definition

pytestmark = pytest.mark.django_db


def http_node(url, **config):
    return {"id": "call", "type": "http", "config": {"url": url, **config}}


def test_get_json_body_is_parsed(api_server):
    api_server.json("GET", "/items", {"items": [1, 2]})
    run = run_now(make_workflow(definition=simple_definition(
        http_node(api_server.url + "/items", query={"page": "2"}))))
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.result["status"] == 200
    assert run.result["body"] == {"items": [1, 2]}
    assert run.result["headers"]["content-type"] == "application/json"
    assert api_server.requests[-1].path == "/items?page=2"


def test_post_json_and_text_bodies(api_server):
    api_server.json("POST", "/in", {"ok": True}, status=201)
    run_now(make_workflow(definition=simple_definition(
        http_node(api_server.url + "/in", method="POST", json_body={"a": 1}))))
    assert api_server.requests[-1].json() == {"a": 1}
    run_now(make_workflow(definition=simple_definition(
        http_node(api_server.url + "/in", method="POST", text_body="plain",
                  headers={"Content-Type": "text/plain"}))))
    assert api_server.requests[-1].body == b"plain"


def test_non_json_body_stays_text(api_server):
    api_server.route("GET", "/t", lambda r: (200, {"Content-Type": "text/html"}, b"<p>hi</p>"))
    run = run_now(make_workflow(definition=simple_definition(http_node(api_server.url + "/t"))))
    assert run.result["body"] == "<p>hi</p>"


def test_error_status_fails_the_node_with_status_in_reason(api_server):
    api_server.json("GET", "/bad", {"error": "nope"}, status=500)
    run = run_now(make_workflow(definition=simple_definition(http_node(api_server.url + "/bad"))))
    assert run.status == Run.Status.FAILED
    assert run.error_node_id == "call"
    assert "HTTP 500" in run.error
    log = run.logs.get(node_id="call")
    assert log.output["body"] == {"error": "nope"}  # the response is kept for debugging


def test_accepted_error_status_and_fail_switch(api_server):
    api_server.json("GET", "/missing", {}, status=404)
    accepted = run_now(make_workflow(definition=simple_definition(
        http_node(api_server.url + "/missing", accept_status=[404]))))
    assert accepted.status == "succeeded"
    assert accepted.result["status"] == 404
    lenient = run_now(make_workflow(definition=simple_definition(
        http_node(api_server.url + "/missing", fail_on_error_status=False))))
    assert lenient.status == "succeeded"


def test_timeout_fails_the_node(api_server):
    api_server.json("GET", "/slow", {}, delay=1.5)
    run = run_now(make_workflow(definition=simple_definition(
        http_node(api_server.url + "/slow", timeout=0.3))))
    assert run.status == Run.Status.FAILED
    assert "timed out" in run.error


def test_redirects_followed_or_not(api_server):
    api_server.route("GET", "/old", lambda r: (302, {"Location": "/new"}, b""))
    api_server.json("GET", "/new", {"moved": True})
    definition = simple_definition(http_node(api_server.url + "/old"))
    followed = run_now(make_workflow(definition=definition))
    assert followed.result["body"] == {"moved": True}
    kept = run_now(make_workflow(definition=simple_definition(
        http_node(api_server.url + "/old", follow_redirects=False, accept_status=[302]))))
    assert kept.result["status"] == 302


def test_connection_refused_is_a_clear_failure():
    run = run_now(make_workflow(definition=simple_definition(http_node("http://127.0.0.1:9/"))))
    assert run.status == "failed"
    assert "failed" in run.error
    assert "127.0.0.1:9" in run.error


def test_query_string_in_url_is_kept(api_server):
    api_server.json("GET", "/q", {})
    run_now(make_workflow(definition=simple_definition(http_node(api_server.url + "/q?v=1"))))
    assert api_server.requests[-1].path == "/q?v=1"
