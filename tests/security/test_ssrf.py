"""Outbound requests refuse internal addresses in every spelling, on every hop, and the
operator allowlist opens exactly what it names. Real servers on loopback throughout."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from django.conf import settings
from django.test import override_settings

from nodes.base import NodeError
from runs.engine import outbound, ssrf
from runs.engine.context import NodeContext


def allow(*entries: str):
    return override_settings(WFAIB={**settings.WFAIB, "HTTP_ALLOW": list(entries)})


def ctx() -> NodeContext:
    return NodeContext(node_id="n", node_type="http", names={"input": None})


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str]

    def do_GET(self):
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def second_loopback():
    """A server on 127.0.0.2: loopback, but not what the allowlist opens."""
    handler = type("Rec", (_Recorder,), {"hits": []})
    try:
        httpd = ThreadingHTTPServer(("127.0.0.2", 0), handler)
    except OSError:
        pytest.skip("127.0.0.2 is not bindable here")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd, handler.hits
    httpd.shutdown()
    httpd.server_close()


def test_test_settings_allow_loopback_but_production_default_is_empty(monkeypatch):
    assert "127.0.0.1" in settings.WFAIB["HTTP_ALLOW"]
    import environ

    from wfaib import conf

    # The production value, read the way settings.py reads it, with nothing set.
    monkeypatch.delenv("WFAIB_HTTP_ALLOW")
    assert conf.from_env(environ.Env())["HTTP_ALLOW"] == []


def test_default_policy_refuses_the_loopback_test_server(api_server):
    api_server.json("GET", "/x", {"ok": True})
    with allow(), pytest.raises(NodeError) as info:
        ctx().http_request("GET", f"{api_server.url}/x", timeout=5)
    assert ("refused: 127.0.0.1 is a loopback address; allow it with WFAIB_HTTP_ALLOW"
            in str(info.value))
    assert api_server.count("/x") == 0
    with allow("127.0.0.1"):  # and the allowlist opens it
        assert ctx().http_request("GET", f"{api_server.url}/x", timeout=5).json() == {"ok": True}


@pytest.mark.parametrize("host", [
    "127.0.0.1", "2130706433", "0x7f000001", "0177.0.0.1", "127.1", "127.0.0.1.",
    "0x7f.0.0.1", "017700000001", "localhost", "localhost.", "LOCALHOST", "[::1]",
    "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[0:0:0:0:0:ffff:127.0.0.1]", "evil.com@127.0.0.1",
    "user:pass@127.0.0.1", "0", "0.0.0.0",
])
def test_every_spelling_of_loopback_is_refused(api_server, host):
    api_server.json("GET", "/x", {"ok": True})
    with allow():
        with pytest.raises(NodeError) as info:
            ctx().http_request("GET", f"http://{host}:{api_server.port}/x", timeout=5)
    assert "refused:" in str(info.value)
    assert api_server.count("/x") == 0


@pytest.mark.parametrize(("address", "reason"), [
    ("10.0.0.1", "a private address"),
    ("172.16.5.4", "a private address"),
    ("192.168.1.1", "a private address"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("169.254.169.254", "a cloud metadata address"),
    ("169.254.1.1", "a link-local address"),
    ("fd00:ec2::254", "a cloud metadata address"),
    ("fc00::1", "a private address"),
    ("fe80::1", "a link-local address"),
    ("224.0.0.1", "a multicast address"),
    ("ff02::1", "a multicast address"),
    ("0.0.0.0", "an unspecified address"),
    ("::", "an unspecified address"),
    ("240.0.0.1", "a reserved address"),
    ("::ffff:10.0.0.1", "a private address"),
    ("64:ff9b::a9fe:a9fe", "a cloud metadata address"),
    ("2002:7f00:1::", "a loopback address"),
    ("100.100.100.200", "a cloud metadata address"),
])
def test_internal_ranges_are_classified(address, reason):
    import ipaddress

    message = ssrf.refusal(address, ipaddress.ip_address(address), allow=[])
    assert message is not None
    assert reason in message
    assert "allow it with WFAIB_HTTP_ALLOW" in message


def test_public_addresses_pass():
    import ipaddress

    for address in ("8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "93.184.216.34"):
        assert ssrf.refusal("example.com", ipaddress.ip_address(address), allow=[]) is None


def test_private_address_refusal_message_is_clear():
    with allow(), pytest.raises(NodeError) as info:
        ctx().http_request("GET", "http://10.0.0.1/", timeout=5)
    assert ("refused: 10.0.0.1 is a private address; allow it with WFAIB_HTTP_ALLOW"
            in str(info.value))


def test_metadata_host_names_are_refused_even_unresolved():
    with allow(), pytest.raises(NodeError,
                                match="metadata.google.internal is a cloud metadata host"):
        ctx().http_request("GET", "http://metadata.google.internal/computeMetadata/v1/", timeout=5)


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "ftp://127.0.0.1/", "gopher://127.0.0.1:6379/_INFO",
    "dict://127.0.0.1:6379/info", "unix:///var/run/docker.sock",
])
def test_non_http_schemes_are_refused(url):
    with pytest.raises(NodeError, match="only http and https"):
        ctx().http_request("GET", url, timeout=5)


def test_cidr_allowlist_opens_a_range(api_server):
    api_server.json("GET", "/x", [1])
    with allow("127.0.0.0/30"):
        assert ctx().http_request("GET", f"{api_server.url}/x", timeout=5).json() == [1]
    with allow("10.0.0.0/8"), pytest.raises(NodeError, match="refused"):
        ctx().http_request("GET", f"{api_server.url}/x", timeout=5)


def test_redirect_to_an_internal_address_is_refused(api_server, second_loopback):
    httpd, hits = second_loopback
    target = f"http://127.0.0.2:{httpd.server_address[1]}/secret"
    api_server.route("GET", "/go", lambda req: (302, {"Location": target}, b""))
    with allow("127.0.0.1"):  # the first hop is allowed, the redirect target is not
        with pytest.raises(NodeError) as info:
            ctx().http_request("GET", f"{api_server.url}/go", timeout=5)
    assert "refused: 127.0.0.2 is a loopback address" in str(info.value)
    assert api_server.count("/go") == 1
    assert hits == []
    with allow("127.0.0.1", "127.0.0.2"):  # the target is real: allowed, it is reached
        assert ctx().http_request("GET", f"{api_server.url}/go", timeout=5).text == "ok"
    assert hits == ["/secret"]


def test_redirect_to_a_non_http_scheme_is_refused(api_server):
    api_server.route("GET", "/go", lambda req: (302, {"Location": "file:///etc/passwd"}, b""))
    with pytest.raises(NodeError):
        ctx().http_request("GET", f"{api_server.url}/go", timeout=5)


def test_connection_goes_to_the_checked_address_no_dns_rebinding(monkeypatch, api_server,
                                                                 second_loopback):
    """A name whose answer changes between lookups (allowed first, internal next) is
    resolved once, and the connection goes to the address that was checked."""
    httpd, hits = second_loopback
    real = socket.getaddrinfo
    answers = ["127.0.0.1", "127.0.0.2", "127.0.0.2"]
    lookups = []

    def rebinding(host, port, *args, **kwargs):
        if host == "rebind.test":
            ip = answers[min(len(lookups), len(answers) - 1)]
            lookups.append(ip)
            return real(ip, port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    api_server.json("GET", "/x", {"where": "allowed"})
    with allow("127.0.0.1"):
        response = ctx().http_request("GET", f"http://rebind.test:{api_server.port}/x",
                                      timeout=5)
    assert response.json() == {"where": "allowed"}
    assert lookups == ["127.0.0.1"]  # resolved exactly once
    assert api_server.requests[-1].headers["Host"] == f"rebind.test:{api_server.port}"
    assert hits == []


def test_a_name_with_any_internal_answer_is_refused(monkeypatch, api_server):
    real = socket.getaddrinfo

    def mixed(host, port, *args, **kwargs):
        if host == "mixed.test":
            return real("8.8.8.8", port, *args, **kwargs) + real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", mixed)
    with allow(), pytest.raises(NodeError,
                                match=r"refused: mixed.test \(127.0.0.1\) is a loopback"):
        ctx().http_request("GET", f"http://mixed.test:{api_server.port}/x", timeout=5)


def test_allowlisted_host_name_is_allowed_by_name(monkeypatch, api_server):
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, *a, **k: real(
        "127.0.0.1" if host == "internal.example" else host, port, *a, **k))
    api_server.json("GET", "/x", {"ok": 1})
    with allow("internal.example"):
        assert ctx().http_request("GET", f"http://internal.example:{api_server.port}/x",
                                  timeout=5).json() == {"ok": 1}
    with allow("other.example"), pytest.raises(NodeError, match="refused"):
        ctx().http_request("GET", f"http://internal.example:{api_server.port}/x", timeout=5)


def test_environment_proxies_are_ignored(monkeypatch, api_server):
    monkeypatch.setenv("HTTP_PROXY", "http://10.9.9.9:3128")
    api_server.json("GET", "/x", {"direct": True})
    with allow("127.0.0.1"):
        answer = ctx().http_request("GET", f"{api_server.url}/x", timeout=5)
        assert answer.json() == {"direct": True}


def test_guarded_transport_uses_the_guarded_backend():
    transport = outbound.guarded_transport()
    assert isinstance(transport._pool._network_backend, ssrf.GuardedBackend)
    with httpx.Client(transport=transport) as client, allow(), \
            pytest.raises(httpx.ConnectError, match="refused"):
        client.get("http://127.0.0.1:9/")


@pytest.mark.django_db
def test_http_and_llm_nodes_fail_with_the_reason_under_the_default_policy(api_server, llm_server):
    from tests.factories import make_workflow, run_now, simple_definition

    api_server.json("GET", "/x", {"ok": True})
    http = {"id": "h", "type": "http", "config": {"url": f"{api_server.url}/x"}}
    llm = {"id": "l", "type": "llm", "config": {"prompt": "hi", "api_key": "sk-test",
                                                 "base_url": f"{llm_server.url}/v1"}}
    with allow():
        run_http = run_now(make_workflow(definition=simple_definition(http)), input={})
        run_llm = run_now(make_workflow(definition=simple_definition(llm)), input={})
    assert run_http.status == "failed"
    assert run_http.error_node_id == "h"
    assert ("refused: 127.0.0.1 is a loopback address; allow it with WFAIB_HTTP_ALLOW"
            in run_http.error)
    assert run_llm.status == "failed"
    assert run_llm.error_node_id == "l"
    assert "refused: 127.0.0.1 is a loopback address" in run_llm.error
    assert api_server.count("/x") == 0
    assert llm_server.count("/v1/chat/completions") == 0


def test_llm_client_refuses_internal_base_url(llm_server):
    with allow(), pytest.raises(NodeError) as info:
        ctx().llm_client(base_url=f"{llm_server.url}/v1", api_key="sk-test", timeout=5)
    assert "refused: 127.0.0.1 is a loopback address" in str(info.value)
    assert llm_server.count("/v1/chat/completions") == 0


def test_llm_requests_go_through_the_guard_too(llm_server):
    with allow("127.0.0.1"):
        client = ctx().llm_client(base_url=f"{llm_server.url}/v1", api_key="sk-test", timeout=5)
    # The allowlist changed after the client was made: the transport refuses on connect.
    import openai

    with allow(), pytest.raises(openai.APIConnectionError) as info:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert "refused" in str(info.value.__cause__)
    assert llm_server.count("/v1/chat/completions") == 0
    with allow("127.0.0.1"):
        answer = client.chat.completions.create(model="m",
                                                messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == "echo: hi"
