"""`webhook`: the trigger. Its output is the payload the run was started with. Its optional
`input_schema` declares that payload's shape: an agent offering the workflow as a tool sends it
to the model as the tool's parameters (nodes/types/agent.py).

Its config says what the workflow's webhook takes (runs/webhooks/options.py reads it):
`methods` (POST by default), `accept` (body kinds: JSON by default, so a browser's cross-site
form post never starts a run unless allowed) and `payload`, the shape of the run's input:

    "body"     (default) the body as sent: JSON as is, a form or multipart body as
               {field: value} with each uploaded file as a file reference
               {name, size, content_type, key} under its field, text as a string, XML as a
               dict; a GET (or any call without a body) gives its query {name: value}; an
               empty body gives {}
    "request"  {"method", "query", "headers", "body", "files"}: files as
               {field: [file reference, ...]}; headers lower-case, without Authorization,
               Cookie and the webhook token or signature
"""

from typing import Any, Literal

from pydantic import Field, field_validator

from ..ai.structured import schema_problem
from ..base import NodeConfig, NodeType
from ..context import NodeContext
from ..registry import register

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
BodyKind = Literal["json", "form", "multipart", "text", "xml"]


class WebhookConfig(NodeConfig):
    description: str = Field("", description="What callers send here (shown in the editor).")
    methods: list[Method] = Field(
        default_factory=lambda: list[Method](["POST"]), min_length=1,
        description="HTTP methods the webhook accepts (others: 405).")
    accept: list[BodyKind] = Field(
        default_factory=lambda: list[BodyKind](["json"]), min_length=1,
        description="Body kinds the webhook accepts (others: 415): json, form "
                    "(urlencoded), multipart (with files), text, xml.")
    payload: Literal["body", "request"] = Field(
        "body", description="body: the run's input is the body (the query for a GET); "
                            "request: {method, query, headers, body, files}.")
    input_schema: dict[str, Any] | None = Field(
        None, description="A JSON Schema of the payload: what an agent calling this workflow "
                          "as a tool must send (its arguments).")

    @field_validator("input_schema")
    @classmethod
    def _schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        problem = schema_problem(value) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value


@register
class WebhookNode(NodeType):
    type = "webhook"
    label = "Webhook"
    category = "trigger"
    description = "Starts the workflow when its URL is called; passes the payload on."
    icon = "webhook"
    inputs = []
    Config = WebhookConfig
    timeout = 5.0
    pure = True
    is_trigger = True
    raw_fields = ("input_schema",)

    def run(self, ctx: NodeContext, config: WebhookConfig, input: Any) -> Any:
        return input
