"""The load generators count answers by status correctly (against a real loopback server)."""

import itertools

import pytest

from bench import load
from tests.servers import LoopbackServer


@pytest.fixture
def flaky_server():
    server = LoopbackServer().start()
    counter = itertools.count()

    def answer(request):
        # Every third request fails, so 2xx and errors must be told apart.
        status = 500 if next(counter) % 3 == 2 else 200
        return status, {"Content-Type": "application/json"}, request.body

    server.route("POST", "/hook", answer)
    yield server
    server.stop()


def test_fixed_count_client_reads_every_answer(flaky_server):
    result = load.load_count(flaky_server.url + "/hook", b'{"n": 1}', connections=4,
                             requests=30)
    assert result.requests == 30
    assert (result.ok, result.other) == (20, 10)
    assert result.statuses == {200: 20, 500: 10}
    assert len(flaky_server.requests) == 30
    assert 0 < result.p50_ms <= result.p99_ms


def test_fixed_time_client_counts_2xx_and_others(flaky_server):
    result = load.load(flaky_server.url + "/hook", b"{}", connections=2, duration=3,
                       tool="httpx")
    assert result.requests > 0
    assert result.ok + result.other == result.requests
    assert result.other == pytest.approx(result.requests / 3, abs=2)


@pytest.mark.skipif(not load.have_wrk(), reason="wrk is not installed")
def test_wrk_counts_2xx_and_others(flaky_server):
    result = load.wrk(flaky_server.url + "/hook", b'{"n": 1}', connections=2, duration=1)
    assert result.requests > 0
    assert result.ok + result.other == result.requests
    # wrk stops mid-flight, so the server may have seen up to `connections` more requests.
    assert result.requests <= len(flaky_server.requests) <= result.requests + 2
    assert result.other == pytest.approx(result.requests / 3, abs=2)
