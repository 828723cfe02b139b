"""The vector store: insert, query (top-k by cosine similarity, metadata filters) and delete
in collections scoped to a project. The search runs where the database allows:

    "sqlite-vec"  SQLite whose connection loads the sqlite-vec extension (vec_distance_cosine
                  over the float32 bytes); Python's sqlite3 must allow extension loading
    "pgvector"    PostgreSQL with the `vector` extension installed in the database
                  (the JSON embedding cast to `vector`, ordered by `<=>`)
    "exact"       anywhere else (PostgreSQL without pgvector, SQLite without extension
                  loading): the filtered candidates' vectors read and ranked in numpy

`backend()` names the one in use (also in GET /api/health). Metadata filters are equality on
top-level keys ({"source": "faq.md"}), applied in SQL on every backend.

    store = ProjectVectors(project_id)
    store.insert("docs", [{"id": "a", "vector": [...], "text": "...", "metadata": {...}}])
    store.query("docs", [...], top_k=3, where={"lang": "en"})  # [{id, text, metadata, score}]
    store.delete("docs", ids=["a"])                              # how many were deleted
"""

from __future__ import annotations

import math
import re
import uuid
from array import array
from typing import Any

from django.db import connection, transaction
from django.db.models import F, FloatField, Func, QuerySet, Value
from django.db.models.expressions import RawSQL

from nodes.base import NodeError

from .models import VectorItem

COLLECTION_RE = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
MAX_DIMENSIONS = 16_000
MAX_TOP_K = 100
_pgvector: dict[str, bool] = {}


def load_sqlite_vec(sender: Any, connection: Any, **kwargs: Any) -> None:
    """connection_created: load sqlite-vec into a new SQLite connection when its sqlite3
    module allows extensions (CPython built without them: the exact path is used)."""
    if connection.vendor != "sqlite":
        return
    raw = connection.connection
    if not hasattr(raw, "enable_load_extension"):
        return
    import sqlite_vec  # type: ignore[import-untyped]

    try:
        raw.enable_load_extension(True)
        sqlite_vec.load(raw)
    except Exception:  # an old SQLite or a refused load: the exact path
        return
    finally:
        raw.enable_load_extension(False)


def float32_bytes(vector: list[float]) -> bytes:
    """The vector as packed float32 in the machine's byte order (what sqlite-vec reads)."""
    return array("f", vector).tobytes()


def _sqlite_vec_loaded() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT vec_version()")
        return True
    except Exception:
        return False


def _pgvector_installed() -> bool:
    alias = connection.settings_dict["NAME"]
    if alias not in _pgvector:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'")
            _pgvector[alias] = cursor.fetchone() is not None
    return _pgvector[alias]


def backend() -> str:
    """"sqlite-vec", "pgvector" or "exact" (see the module's docstring)."""
    if connection.vendor == "sqlite" and _sqlite_vec_loaded():
        return "sqlite-vec"
    if connection.vendor == "postgresql" and _pgvector_installed():
        return "pgvector"
    return "exact"


def _collection(name: Any) -> str:
    if not isinstance(name, str) or not COLLECTION_RE.match(name):
        raise NodeError("vector store: the collection name must be 1-100 letters, digits, "
                        "'_', '-' or '.'")
    return name


def _vector(value: Any, what: str) -> list[float]:
    if not isinstance(value, list) or not value or len(value) > MAX_DIMENSIONS:
        raise NodeError(f"vector store: {what} must be a non-empty list of at most "
                        f"{MAX_DIMENSIONS} numbers")
    try:
        floats = [float(v) for v in value]
    except (TypeError, ValueError):
        raise NodeError(f"vector store: {what} must hold numbers only") from None
    if not all(math.isfinite(v) for v in floats):
        raise NodeError(f"vector store: {what} holds a NaN or infinite number")
    return floats


def _where(where: Any) -> dict[str, Any]:
    if where is None:
        return {}
    if not isinstance(where, dict) or not all(
            isinstance(k, str) and re.match(r"^[A-Za-z0-9_]{1,100}$", k) for k in where):
        raise NodeError("vector store: the metadata filter must be an object whose keys are "
                        "letters, digits and '_'")
    return {f"metadata__{k}": v for k, v in where.items()}


def ranked(items: QuerySet[VectorItem], query: list[float], kind: str) -> QuerySet[VectorItem]:
    """`items` annotated with their cosine `distance` to `query` in the database's own SQL
    ("sqlite-vec" or "pgvector"), nearest first."""
    if kind == "sqlite-vec":
        blob = float32_bytes(query)
        distance: Any = Func(F("vector"), Value(blob), function="vec_distance_cosine",
                             output_field=FloatField())
    else:
        literal = "[" + ",".join(repr(v) for v in query) + "]"
        distance = RawSQL("(ai_vectoritem.embedding::text)::vector <=> %s::vector",
                          (literal,), output_field=FloatField())
    return items.annotate(distance=distance).order_by("distance", "id")


class ProjectVectors:
    def __init__(self, project_id: int):
        self.project_id = project_id

    def _items(self, collection: str) -> QuerySet[VectorItem]:
        return VectorItem.objects.filter(project_id=self.project_id,
                                         collection=_collection(collection))

    def _dimensions(self, collection: str) -> int | None:
        return self._items(collection).values_list("dimensions", flat=True).first()

    def insert(self, collection: str, items: list[dict[str, Any]]) -> list[str]:
        """Insert or replace items {id?, vector, text?, metadata?}; their ids."""
        known = self._dimensions(collection)
        rows, keys = [], []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise NodeError(f"vector store: item [{i}] must be an object")
            vector = _vector(item.get("vector"), f"item [{i}]'s vector")
            known = known or len(vector)
            if len(vector) != known:
                raise NodeError(f"vector store: item [{i}] has {len(vector)} dimensions; the "
                                f"collection {collection!r} has {known}")
            metadata = item.get("metadata") or {}
            if not isinstance(metadata, dict):
                raise NodeError(f"vector store: item [{i}]'s metadata must be an object")
            key = str(item.get("id") or uuid.uuid4().hex)[:200]
            keys.append(key)
            rows.append(VectorItem(
                project_id=self.project_id, collection=collection, key=key,
                text=str(item.get("text") or ""), metadata=metadata, embedding=vector,
                vector=float32_bytes(vector), dimensions=len(vector)))
        with transaction.atomic():
            self._items(collection).filter(key__in=keys).delete()
            VectorItem.objects.bulk_create(rows)
        return keys

    def query(self, collection: str, vector: list[float], *, top_k: int = 4,
              where: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The `top_k` items most similar to `vector` (cosine), best first, each
        {id, text, metadata, score} with score = cosine similarity."""
        query = _vector(vector, "the query vector")
        top_k = max(1, min(int(top_k), MAX_TOP_K))
        known = self._dimensions(collection)
        if known is None:
            return []
        if len(query) != known:
            raise NodeError(f"vector store: the query has {len(query)} dimensions; the "
                            f"collection {collection!r} has {known}")
        items = self._items(collection).filter(**_where(where))
        kind = backend()
        if kind == "exact":
            return self._exact(items, query, top_k)
        found = ranked(items, query, kind).values_list(  # type: ignore[misc]
            "key", "text", "metadata", "distance")[:top_k]  # (annotated by ranked())
        return [{"id": key, "text": text, "metadata": metadata,
                 "score": round(1.0 - float(distance), 6)}
                for key, text, metadata, distance in found]

    @staticmethod
    def _exact(items: QuerySet[VectorItem], query: list[float],
               top_k: int) -> list[dict[str, Any]]:
        rows = list(items.values_list("key", "text", "metadata", "vector"))
        if not rows:
            return []
        import numpy as np  # only here: ~14 MB that no other path of a process needs

        matrix = np.frombuffer(b"".join(bytes(r[3]) for r in rows),
                               dtype=np.float32).reshape(len(rows), -1)
        q = np.asarray(query, dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1) * (np.linalg.norm(q) or 1.0)
        scores = (matrix @ q) / np.where(norms == 0, 1.0, norms)
        best = np.argsort(-scores, kind="stable")[:top_k]
        return [{"id": rows[i][0], "text": rows[i][1], "metadata": rows[i][2],
                 "score": round(float(scores[i]), 6)} for i in best]

    def delete(self, collection: str, *, ids: list[str] | None = None,
               where: dict[str, Any] | None = None) -> int:
        """Delete items by id and/or metadata filter (neither: the whole collection)."""
        items = self._items(collection).filter(**_where(where))
        if ids is not None:
            items = items.filter(key__in=[str(i) for i in ids])
        deleted, _ = items.delete()
        return deleted
