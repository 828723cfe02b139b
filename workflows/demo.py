"""The demo workflow the quick start puts in place: webhook -> transform -> http -> transform.

It calls this server's own health endpoint on loopback (WFAIB_BASE_URL), so it needs no API
key. When the server is not up (a CLI run before `runserver`), the HTTP node's error is passed
on (`on_error: continue`) and the summary says the server is unreachable and why: the run
still succeeds and shows every node.
"""
from __future__ import annotations

from wfaib.conf import wfaib_settings

UNREACHABLE = "unreachable (start the server: ./scripts/quickstart.sh): "


def demo_definition() -> dict:
    base = wfaib_settings.BASE_URL.rstrip("/")
    return {
        "name": "demo",
        "nodes": [
            {"id": "trigger", "type": "webhook", "config": {}, "position": {"x": 0, "y": 100}},
            {
                "id": "greet",
                "type": "transform",
                "config": {"mapping": {
                    "name": "input.get('name', 'world')",
                    "greeting": "'Hello, ' + input.get('name', 'world') + '!'",
                }},
                "position": {"x": 250, "y": 100},
            },
            {
                "id": "check",
                "type": "http",
                "config": {"method": "GET", "url": f"{base}/api/health",
                           "query": {"from": "{{ input.name }}"}, "timeout": 10},
                "settings": {"on_error": "continue"},
                "position": {"x": 500, "y": 100},
            },
            {
                "id": "summary",
                "type": "transform",
                "config": {"mapping": {
                    "greeting": "nodes.greet.greeting",
                    "server_status": "input['body']['status'] if 'body' in input else "
                                     f"{UNREACHABLE!r} + input['error']",
                    "http_status": "input.get('status')",
                }},
                "position": {"x": 750, "y": 100},
            },
        ],
        "edges": [
            {"from": "trigger", "to": "greet"},
            {"from": "greet", "to": "check"},
            {"from": "check", "to": "summary"},
        ],
    }
