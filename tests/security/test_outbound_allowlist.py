"""Issue 17, item 10: the outbound allowlist and redirects, against real loopback servers.

- `WFAIB_HTTP_ALLOW` takes `host:port` entries that open that port only (a bare host or IP
  still opens every port of it, as before; CIDRs too);
- redirects are followed at most WFAIB_HTTP_MAX_REDIRECTS (5) times, and an error names the
  hop that was refused, not the first URL."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings

from nodes.base import NodeError
from runs.engine import ssrf
from runs.engine.context import NodeContext
from tests.servers import LoopbackServer


def policy(*entries: str, **more):
    return override_settings(WFAIB={**settings.WFAIB, "HTTP_ALLOW": list(entries), **more})


def ctx() -> NodeContext:
    return NodeContext(node_id="n", node_type="http", names={"input": None})


@pytest.fixture
def other_port():
    """A second internal service on 127.0.0.1, on another port: what host:port must not open."""
    server = LoopbackServer().start()
    server.json("GET", "/admin", {"internal": True})
    yield server
    server.stop()


def test_host_port_entry_opens_that_port_only(api_server, other_port):
    api_server.json("GET", "/x", {"ok": 1})
    with policy(f"127.0.0.1:{api_server.port}"):
        assert ctx().http_request("GET", f"{api_server.url}/x", timeout=5).json() == {"ok": 1}
        with pytest.raises(NodeError) as info:
            ctx().http_request("GET", f"{other_port.url}/admin", timeout=5)
    assert f"port {other_port.port} of 127.0.0.1 is not allowed" in str(info.value)
    assert f"127.0.0.1:{other_port.port}" in str(info.value)  # what to add, if wanted
    assert other_port.count("/admin") == 0


def test_bare_host_keeps_opening_every_port(api_server, other_port):
    with policy("127.0.0.1"):
        assert ctx().http_request("GET", f"{other_port.url}/admin", timeout=5).json() == {
            "internal": True}


@pytest.mark.parametrize(("entry", "host", "address"), [
    ("localhost:{port}", "localhost", "127.0.0.1"), ("127.0.0.1:{port}", "127.0.0.1", "127.0.0.1"),
    ("[::1]:{port}", "::1", "::1"), ("LOCALHOST.:{port}", "localhost", "127.0.0.1"),
])
def test_host_port_spellings(entry, host, address):
    port = 8080
    allow = [entry.format(port=port)]
    ip = ssrf.ipaddress.ip_address(address)
    assert ssrf.refusal(host, ip, allow, port) is None
    assert ssrf.refusal(host, ip, allow, port + 1) is not None


def test_ipv6_host_port_and_cidr_entries_parse():
    hosts, networks = ssrf._parse_allowlist(("[::1]:8080", "::1", "10.0.0.0/8", "db:5432"))
    assert hosts == {"::1": frozenset({8080, ssrf.ANY_PORT}), "db": frozenset({5432})}
    assert [str(n) for n in networks] == ["10.0.0.0/8"]


def redirect_chain(server: LoopbackServer, hops: int) -> None:
    for i in range(hops):
        server.route("GET", f"/r{i}", lambda req, i=i: (302, {"Location": f"/r{i + 1}"}, b""))
    server.json("GET", f"/r{hops}", {"hops": hops})


def test_redirects_are_limited_by_a_setting_defaulting_to_five(api_server):
    assert settings.WFAIB["HTTP_MAX_REDIRECTS"] == 5
    redirect_chain(api_server, 5)
    with policy("127.0.0.1", HTTP_MAX_REDIRECTS=5):
        assert ctx().http_request("GET", f"{api_server.url}/r0", timeout=5).json() == {
            "hops": 5}
    redirect_chain(api_server, 6)
    with policy("127.0.0.1", HTTP_MAX_REDIRECTS=5), pytest.raises(NodeError) as info:
        ctx().http_request("GET", f"{api_server.url}/r0", timeout=5)
    message = str(info.value)
    assert "more than 5 redirects" in message
    assert f"redirect 6 to {api_server.url}/r6" in message  # the hop refused, not /r0 only
    assert api_server.count("/r6") == 0
    with policy("127.0.0.1", HTTP_MAX_REDIRECTS=0), pytest.raises(NodeError, match="more than 0"):
        ctx().http_request("GET", f"{api_server.url}/r0", timeout=5)


def test_a_refused_redirect_hop_is_named_in_the_error(api_server, other_port):
    target = f"{other_port.url}/admin"
    api_server.route("GET", "/a", lambda req: (302, {"Location": "/b"}, b""))
    api_server.route("GET", "/b", lambda req: (302, {"Location": target}, b""))
    with policy(f"127.0.0.1:{api_server.port}"), pytest.raises(NodeError) as info:
        ctx().http_request("GET", f"{api_server.url}/a", timeout=5)
    assert f"redirect 2 to {target}: refused: port {other_port.port}" in str(info.value)
    assert other_port.count("/admin") == 0


def test_follow_redirects_off_returns_the_redirect(api_server):
    api_server.route("GET", "/a", lambda req: (302, {"Location": "/b"}, b""))
    with policy("127.0.0.1"):
        response = ctx().http_request("GET", f"{api_server.url}/a", timeout=5,
                                      follow_redirects=False)
    assert response.status_code == 302
    assert api_server.count("/b") == 0
