"""How an HTTP credential becomes request headers (the `http` node, "test connection").

    headers = auth_headers(ctx.credential(ref, kinds=HTTP_AUTH_KINDS))

`oauth2`: the engine hands out the credential with a current access token (fetched or
refreshed before expiry), so here it is only a bearer token.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from .base import NodeError

HTTP_AUTH_KINDS = ("api_key_header", "bearer_token", "basic_auth", "oauth2")


def auth_headers(credential: Mapping[str, Any]) -> dict[str, str]:
    """The headers that authenticate a request with `credential` ({kind, name, data})."""
    kind, data = credential["kind"], credential.get("data") or {}
    name = credential.get("name", "")
    try:
        if kind == "api_key_header":
            return {str(data["header_name"]): str(data["api_key"])}
        if kind == "bearer_token":
            return {"Authorization": f"Bearer {data['token']}"}
        if kind == "basic_auth":
            pair = f"{data['username']}:{data.get('password') or ''}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        if kind == "oauth2":
            if not data.get("access_token"):
                raise NodeError(f"credential {name!r} has no OAuth2 access token")
            return {"Authorization": f"Bearer {data['access_token']}"}
    except KeyError as exc:
        raise NodeError(f"credential {name!r} ({kind}) lacks the field {exc.args[0]!r}") \
            from None
    raise NodeError(f"credential {name!r} is of kind {kind!r}, which does not authenticate "
                    f"HTTP requests; one of: {', '.join(HTTP_AUTH_KINDS)}")
