"""Fixed-window rate limits in Django's cache (CACHE_URL; Redis shares them across processes).

    allowed, retry_after = hit("wf:12", limit=600, window=60)

One counter per key and window: `cache.add` starts it (atomic: only the first caller wins),
`cache.incr` counts (atomic in Redis and locmem). A counter that vanished between the two
(eviction) restarts instead of failing the request.
"""

from __future__ import annotations

import time

from django.core.cache import cache


def hit(key: str, *, limit: int, window: int) -> tuple[bool, int]:
    """Count one request against `key`; (allowed, seconds until the window resets)."""
    if limit <= 0 or window <= 0:
        return True, 0
    now = time.time()
    start = int(now // window) * window
    cache_key = f"wfaib:rl:{key}:{start}"
    cache.add(cache_key, 0, timeout=window + 1)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # evicted in between
        cache.set(cache_key, 1, timeout=window + 1)
        count = 1
    retry_after = max(1, int(start + window - now + 0.999))
    return count <= limit, retry_after
