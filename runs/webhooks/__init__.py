"""The webhook gateway: the public door that starts runs (`POST /api/webhook/{workflowId}`).

    signatures.py   per-workflow authentication: secret token header, Standard Webhooks HMAC
    ratelimit.py    fixed-window counters in the cache, per workflow and per client address
    views.py        the endpoint: limits, auth, body, idempotency, run, sync wait, answer
"""
