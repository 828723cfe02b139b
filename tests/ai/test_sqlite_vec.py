"""The sqlite-vec search path for real: the SQL Django compiles for it (`ai.vectors.ranked`)
run by SQLite with the sqlite-vec extension loaded, on a copy of the store's table.

When the test database's own connection loads sqlite-vec (a Python whose sqlite3 allows
extensions, such as the Docker image's), tests/nodes/test_retrieval.py already runs through
it; this machine's CPython does not allow extension loading, so the compiled query is run by
pysqlite3 (the same SQLite API, extensions allowed) with sqlite-vec loaded."""

import pytest
from django.db import connection

from accounts.models import Project
from ai.models import VectorItem
from ai.vectors import ProjectVectors, ranked
from tests.llm_servers import letters_vector

pysqlite3 = pytest.importorskip("pysqlite3.dbapi2")
sqlite_vec = pytest.importorskip("sqlite_vec")
pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif("connection.vendor != 'sqlite'", reason="SQLite only")]

DOCS = {"cats": "cats purr and sleep", "dogs": "dogs bark loudly", "tax": "income tax",
        "catnip": "cats love catnip", "cars": "fast cars"}


def sqlite_vec_copy():
    """A SQLite connection with sqlite-vec loaded holding a copy of ai_vectoritem."""
    copy = pysqlite3.connect(":memory:")
    copy.enable_load_extension(True)
    sqlite_vec.load(copy)
    copy.enable_load_extension(False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'ai_vectoritem'")
        copy.execute(cursor.fetchone()[0])
        cursor.execute("SELECT * FROM ai_vectoritem")
        rows = cursor.fetchall()
    marks = ",".join("?" * len(rows[0]))
    copy.executemany(f"INSERT INTO ai_vectoritem VALUES ({marks})", rows)
    return copy


def run_compiled(copy, queryset):
    sql, params = queryset.query.sql_with_params()
    return copy.execute(sql.replace("%s", "?"), params).fetchall()


def test_sqlite_vec_ranks_like_the_exact_search(user):
    project = Project.objects.get(personal_owner=user)
    store = ProjectVectors(project.pk)
    store.insert("docs", [{"id": k, "vector": letters_vector(v), "text": v,
                           "metadata": {"lang": "fr" if k == "catnip" else "en"}}
                          for k, v in DOCS.items()])
    copy = sqlite_vec_copy()
    assert copy.execute("SELECT vec_version()").fetchone()[0].startswith("v")
    query = letters_vector("cats purr")
    items = VectorItem.objects.filter(project=project, collection="docs")
    found = run_compiled(copy, ranked(items, query, "sqlite-vec").values_list("key",
                                                                              "distance"))
    exact = ProjectVectors._exact(items, query, top_k=10)
    assert [k for k, _ in found] == [m["id"] for m in exact]
    for (_, distance), match in zip(found, exact, strict=True):
        assert 1 - distance == pytest.approx(match["score"], abs=1e-5)
    # the metadata filter compiles to SQL sqlite-vec's SQLite runs too
    french = items.filter(metadata__lang="fr")
    assert [k for k, _ in run_compiled(copy, ranked(french, query, "sqlite-vec")
                                       .values_list("key", "distance"))] == ["catnip"]
