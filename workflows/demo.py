"""The demo workflow the quick start puts in place: webhook -> transform -> http -> transform.

It calls this server's own health endpoint on loopback, so it works without any API key.
"""

from __future__ import annotations

from wfaib.conf import wfaib_settings


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
                "position": {"x": 500, "y": 100},
            },
            {
                "id": "summary",
                "type": "transform",
                "config": {"mapping": {
                    "greeting": "nodes.greet.greeting",
                    "server_status": "input.body.status",
                    "http_status": "input.status",
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
