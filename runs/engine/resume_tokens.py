"""Resume tokens of wait-for-webhook nodes: unguessable, and known before the node runs.

    token = resume_token(run_id, "approve")
    resume_url(token)  # -> "https://wfaib.example/api/resume/<token>"

The token is an HMAC of the run id and node id under SECRET_KEY, so earlier nodes of the run can
send the URL (`{{ run.resume_urls.approve }}`) before the wait node runs; a retried run (a new
run id) gets new tokens.
"""

from __future__ import annotations

from django.utils.crypto import salted_hmac

from wfaib.conf import wfaib_settings


def resume_token(run_id: int, node_id: str) -> str:
    digest = salted_hmac("wfaib.resume", f"{run_id}:{node_id}", algorithm="sha256").hexdigest()
    return f"{run_id}-{digest[:40]}"


def resume_url(token: str) -> str:
    """On the webhook origin (WFAIB_WEBHOOK_BASE_URL) when there is one."""
    base = str(wfaib_settings.WEBHOOK_BASE_URL or wfaib_settings.BASE_URL).rstrip("/")
    return f"{base}/api/resume/{token}"
