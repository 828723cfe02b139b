"""Where a connection that is not HTTP may go (database, SMTP, IMAP), for the nodes through
their context and for a credential's "test connection" alike:

    address = outbound_address("db.example", 5432)   # the IP to connect to, policy checked
    path = local_database_file("shop.db")            # a SQLite file in WFAIB_SQLITE_DIRS

Both raise NodeError with a clear reason (an internal address without WFAIB_HTTP_ALLOW, a
name that does not resolve, a file outside the allowed folders).
"""

from __future__ import annotations

import os

import httpcore

from nodes.base import NodeError
from wfaib.conf import wfaib_settings

from . import ssrf


def outbound_address(host: str, port: int) -> str:
    """The address the outbound policy checked for `host`:`port`; connect to it (so a DNS
    answer cannot change in between) while TLS verifies `host`."""
    try:
        return str(ssrf.checked_address(host, port))
    except httpcore.ConnectError as exc:  # OutboundRefused is one
        raise NodeError(f"{host}:{port}: {exc}") from None


def local_database_file(path: str) -> str:
    """The real path of a SQLite file, which must lie in a folder of WFAIB_SQLITE_DIRS."""
    roots = [os.path.realpath(root) for root in wfaib_settings.SQLITE_DIRS or [] if root]
    if not roots:
        raise NodeError("SQLite files are not enabled here: the operator lists the folders "
                        "they may be in with WFAIB_SQLITE_DIRS")
    found = os.path.realpath(os.path.join(roots[0], path))
    if not any(os.path.commonpath([found, root]) == root for root in roots):
        raise NodeError(f"SQLite file {path!r} is outside the folders WFAIB_SQLITE_DIRS "
                        f"allows")
    return found
