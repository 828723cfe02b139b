"""WFAIB_MAX_NODE_TIMEOUT: the operator's cap on any node's timeout, applied when the node runs
(a larger configured timeout is accepted at save time and clamped)."""

from __future__ import annotations

import threading

import pytest

from runs.engine.policies import NodeTimeout, call_with_timeout, max_node_timeout


def test_a_timeout_above_the_cap_is_clamped(settings):
    settings.WFAIB = {**settings.WFAIB, "MAX_NODE_TIMEOUT": 0.2}
    release = threading.Event()
    try:
        with pytest.raises(NodeTimeout, match=r"timed out after 0\.2s"):
            call_with_timeout(lambda: release.wait(120), 3600, name="wfaib-test-node")
    finally:
        release.set()


def test_no_cap_keeps_the_nodes_timeout(settings):
    settings.WFAIB = {**settings.WFAIB, "MAX_NODE_TIMEOUT": 0}
    assert max_node_timeout(3600) == 3600
    settings.WFAIB = {**settings.WFAIB, "MAX_NODE_TIMEOUT": 300}
    assert max_node_timeout(3600) == 300
    assert max_node_timeout(5) == 5
