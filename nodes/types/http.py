"""`http`: call an HTTP API with httpx (through ctx, which applies the outbound-address guard).

Output: {status, headers, body}; the body is parsed when the response is JSON, and a binary
response (an image, a PDF, application/octet-stream: nodes/binary.py) is kept as a run file,
its body a file reference {name, size, content_type, key}. `credential` names a stored
credential (api_key_header, bearer_token, basic_auth, oauth2) whose auth is applied to the
request (its headers win over the config's). A status outside 2xx fails the node unless
`accept_status` lists it or `fail_on_error_status` is off.
"""

from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from ..base import NodeConfig, NodeError, NodeType, credential_field, expression_field
from ..binary import file_name, is_binary
from ..context import NodeContext
from ..http_auth import HTTP_AUTH_KINDS, auth_headers
from ..registry import register

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def check_url(value: str) -> str:
    if "{{" in value:  # rendered at run time, checked again then
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not a valid URL (http:// or https:// with a host)")
    return value


class HttpConfig(NodeConfig):
    method: Method = "GET"
    url: str = Field(..., description="The URL to call.",
                     json_schema_extra=expression_field(format="uri"))
    headers: dict[str, str] = Field(default_factory=dict, json_schema_extra=expression_field())
    credential: int | str | None = Field(
        None, description="A stored credential (id or name) that authenticates the request: "
                          "API key header, bearer token, basic auth or OAuth2.",
        json_schema_extra=credential_field(*HTTP_AUTH_KINDS))
    query: dict[str, str] = Field(default_factory=dict, json_schema_extra=expression_field())
    json_body: Any = Field(
        None,
        description="A JSON body (object, list or an expression).",
        json_schema_extra=expression_field(format="json"),
    )
    text_body: str | None = Field(None, json_schema_extra=expression_field(format="textarea"))
    timeout: float = Field(30.0, gt=0, le=600, description="Seconds before the call is abandoned.")
    follow_redirects: bool = True
    fail_on_error_status: bool = Field(True, description="Fail the node on a non-2xx status.")
    accept_status: list[int] = Field(
        default_factory=list, description="Non-2xx statuses that do not fail the node."
    )

    _check_url = field_validator("url")(classmethod(lambda cls, v: check_url(v)))

    @model_validator(mode="after")
    def _one_body(self) -> "HttpConfig":
        if self.json_body is not None and self.text_body is not None:
            raise ValueError("give json_body or text_body, not both")
        return self


@register
class HttpNode(NodeType):
    type = "http"
    label = "HTTP request"
    category = "core"
    description = "Calls an HTTP API and outputs its status, headers and (parsed) body."
    icon = "globe"
    Config = HttpConfig
    output_schema = {"type": "object", "properties": {
        "status": {"type": "integer"}, "headers": {"type": "object"}, "body": {}}}
    timeout = 60.0

    def run(self, ctx: NodeContext, config: HttpConfig, input: Any) -> Any:
        headers = dict(config.headers)
        if config.credential not in (None, ""):
            found = ctx.credential(config.credential, kinds=HTTP_AUTH_KINDS)
            headers.update(auth_headers(found))
        kwargs: dict[str, Any] = {"headers": headers}
        if config.query:  # httpx drops the URL's own query string when given params={}
            kwargs["params"] = config.query
        if config.json_body is not None:
            kwargs["json"] = config.json_body
        elif config.text_body is not None:
            kwargs["content"] = config.text_body.encode()
        response = ctx.http_request(
            config.method,
            config.url,
            timeout=config.timeout,
            follow_redirects=config.follow_redirects,
            **kwargs,
        )
        body: Any = response.text
        if response.content and is_binary(response.headers.get("content-type")):
            body = ctx.save_file(file_name(str(response.url), response.headers),
                                 response.content, response.headers["content-type"])
        if "json" in response.headers.get("content-type", "") and response.content:
            try:
                body = response.json()
            except ValueError:
                body = response.text
        output = {"status": response.status_code, "headers": dict(response.headers), "body": body}
        ok = 200 <= response.status_code < 300 or response.status_code in config.accept_status
        if not ok and config.fail_on_error_status:
            raise NodeError(
                f"{config.method} {config.url} answered HTTP {response.status_code}", output=output
            )
        return output
