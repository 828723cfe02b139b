"""The garbage collector told to leave start-up's objects alone.

    freeze_startup()    # wsgi.py and asgi.py, each Celery worker process, run_workflow

A loaded process holds ~430,000 objects from imports, Django's app registry and settings that
live until it exits. Python's collector scans them all in every full collection, and a big run
allocates enough (a RunLog and outputs per node) to trigger such collections again and again:
a 10,000-node run cost 15x a 1,000-node one (75 instead of 50 us per node). `gc.freeze()`
moves every object alive now into a permanent generation no collection scans (what CPython's
documentation recommends for servers, and what Instagram's and gunicorn's deployments do);
objects made afterwards are collected as before. bench/RESULTS.md has the figures.

A web server also loads its URL map first (`url_map=True`): the root URLconf, every view
module it names and the resolver's reverse lookup, which its first request would otherwise
load (~0.2 s, ~23,000 objects that would then stay in the collected generations).
"""

from __future__ import annotations

import gc


def freeze_startup(*, url_map: bool = False) -> int:
    """Collect what start-up left as garbage, then freeze every object still alive. Returns the
    number of frozen objects. Idempotent: objects made since a previous call join them.
    `url_map`: load the URL map with every view module first (a web server's)."""
    if url_map:
        from django.urls import get_resolver

        get_resolver().reverse_dict  # noqa: B018 (imports the URLconf, builds the reverse map)
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
