"""`vector_store`: insert, query and delete vectors in a collection of the project
(ai/vectors.py: sqlite-vec on SQLite, pgvector on PostgreSQL with the extension, else exact
search in process; GET /api/health names which).

insert: `items` is a list of {id?, vector, text?, metadata?} (the embeddings node's items:
fields other than id, vector and text become metadata); outputs {ids, count}.
query: `vector` (e.g. `{{ nodes.embed.items[0].vector }}`), `top_k`, `filter` (metadata
equality); outputs {matches: [{id, text, metadata, score}]}, best first.
delete: `ids` and/or `filter` (neither: the whole collection); outputs {deleted}.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from ..base import NodeConfig, NodeError, NodeType, expression_field
from ..context import NodeContext
from ..registry import register

RESERVED = ("id", "vector", "text", "metadata")


class VectorStoreConfig(NodeConfig):
    operation: Literal["insert", "query", "delete"] = "query"
    collection: str = Field(..., pattern=r"^[A-Za-z0-9_.{}\[\] -]{1,200}$",
                            description="The collection (letters, digits, _ - .).",
                            json_schema_extra=expression_field())
    items: Any = Field(None, description="insert: [{id?, vector, text?, metadata?}].",
                       json_schema_extra=expression_field(format="json"))
    vector: Any = Field(None, description="query: the query vector.",
                        json_schema_extra=expression_field(format="json"))
    top_k: int = Field(4, ge=1, le=100)
    filter: dict[str, Any] | None = Field(None, description="Metadata equality, e.g. "
                                                            "{\"lang\": \"en\"}.",
                                          json_schema_extra=expression_field(format="json"))
    ids: Any = Field(None, description="delete: the ids to delete.",
                     json_schema_extra=expression_field(format="json"))

    @model_validator(mode="after")
    def _needs(self) -> VectorStoreConfig:
        if self.operation == "insert" and self.items is None:
            raise ValueError("insert needs items")
        if self.operation == "query" and self.vector is None:
            raise ValueError("query needs a vector")
        return self


def _item(value: Any, i: int) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise NodeError(f"items[{i}] must be an object with a vector")
    metadata = dict(value.get("metadata") or {})
    metadata.update({k: v for k, v in value.items() if k not in RESERVED})
    return {"id": value.get("id"), "vector": value.get("vector"), "text": value.get("text"),
            "metadata": metadata}


@register
class VectorStoreNode(NodeType):
    type = "vector_store"
    label = "Vector store"
    category = "ai"
    description = "Inserts, queries (top-k, metadata filters) or deletes vectors of a collection."
    icon = "database"
    Config = VectorStoreConfig
    timeout = 120.0
    inline_only = True  # reads and writes the database: in the run's own thread

    def run(self, ctx: NodeContext, config: VectorStoreConfig, input: Any) -> Any:
        store = ctx.vectors
        if config.operation == "insert":
            items = config.items if isinstance(config.items, list) else None
            if not items:
                raise NodeError("insert: items must be a non-empty list")
            ids = store.insert(config.collection, [_item(v, i) for i, v in enumerate(items)])
            return {"ids": ids, "count": len(ids)}
        if config.operation == "query":
            return {"matches": store.query(config.collection, config.vector,
                                           top_k=config.top_k, where=config.filter)}
        ids = config.ids
        if ids is not None and not (isinstance(ids, list)
                                    and all(isinstance(i, (str, int)) for i in ids)):
            raise NodeError("delete: ids must be a list of ids")
        return {"deleted": store.delete(config.collection, ids=ids, where=config.filter)}
