"""`database`: one parameterised SQL statement against a `database` credential (PostgreSQL,
MySQL/MariaDB or SQLite), read-only unless `allow_writes` is set.

    {"type": "database", "config": {
        "credential": "shop-db",
        "query": "SELECT id, total FROM orders WHERE customer = %(customer)s LIMIT 50",
        "parameters": {"customer": "{{ input.customer_id }}"}}}

The query text is never templated: values go in `parameters` (a list for positional, an
object for named placeholders), rendered from expressions and handed to the driver apart from
the SQL. Placeholders are the driver's own: `%s` / `%(name)s` for PostgreSQL and MySQL
(a literal % is written %% when there are parameters), `?` / `:name` for SQLite.

Output: {rows: [{column: value}], columns, row_count, truncated, affected_rows}. At most
`max_rows` rows are fetched; `truncated` says whether there were more. Decimals come as text,
times in ISO 8601, bytes in base64.

Servers are reached under the outbound-address policy, like HTTP: an internal host (the
platform's own database on 127.0.0.1 included) must be opened by the operator with
WFAIB_HTTP_ALLOW; SQLite files must lie in a folder of WFAIB_SQLITE_DIRS.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..base import NodeConfig, NodeError, NodeType, credential_field, expression_field
from ..context import NodeContext
from ..databases import DatabaseFailure, Statement, Target, execute, parse_url
from ..registry import register

REASONS = {
    "read_only": "the statement tried to change data, and this node is read-only (set "
                 "allow_writes to let it)",
    "timeout": "statement timeout",
    "connect": "cannot reach the database",
    "sql": "SQL error",
    "url": "bad database credential",
}


class DatabaseConfig(NodeConfig):
    credential: int | str | None = Field(
        None, description="A `database` credential (its URL: postgresql://, mysql:// or "
        "sqlite:///).", json_schema_extra=credential_field("database"))
    query: str = Field(..., min_length=1, max_length=100_000,
                       description="One SQL statement, with placeholders for the values "
                       "(never templated).", json_schema_extra={"format": "sql"})
    parameters: list[Any] | dict[str, Any] = Field(
        default_factory=list,
        description="Values for the placeholders: a list (positional) or an object (named).",
        json_schema_extra=expression_field(format="json"))
    allow_writes: bool = Field(False, description="Let the statement change data (else the "
                               "database refuses any change).")
    max_rows: int = Field(1000, ge=1, le=100_000, description="Rows returned at most.")
    timeout: float = Field(30.0, gt=0, le=3600,
                           description="Seconds the statement may run before it is cancelled.")


@register
class DatabaseNode(NodeType):
    """Runs one SQL statement through the driver of the credential's database."""

    type = "database"
    label = "Database"
    category = "data"
    description = "Runs a parameterised SQL statement on PostgreSQL, MySQL/MariaDB or SQLite."
    icon = "database"
    Config = DatabaseConfig
    raw_fields = ("query",)  # SQL is never a template: values go in parameters
    timeout = 3660.0  # the statement's own timeout (config.timeout) cancels it first

    def run(self, ctx: NodeContext, config: DatabaseConfig, input: Any) -> Any:
        if config.credential in (None, ""):
            raise NodeError("no credential: pick a database credential")
        url = ctx.credential(config.credential, kinds=("database",))["data"].get("url") or ""
        try:
            target = parse_url(str(url))
        except DatabaseFailure as exc:
            raise NodeError(f"{REASONS['url']}: {exc.message}") from None
        address = ""
        if target.driver == "sqlite":
            target = Target("sqlite", path=ctx.local_database_file(target.path))
        else:
            address = ctx.outbound_address(target.host, target.port)
        statement = Statement(config.query, config.parameters, writes=config.allow_writes,
                              timeout=config.timeout, max_rows=config.max_rows)
        try:
            result = execute(target, statement, address=address)
        except DatabaseFailure as exc:
            raise NodeError(f"{REASONS[exc.kind]}: {exc.message}") from None
        return {"rows": result.rows, "columns": result.columns, "row_count": len(result.rows),
                "truncated": result.truncated, "affected_rows": result.affected_rows}
