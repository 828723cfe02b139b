"""Retrieval: the text splitter, the embeddings node against a loopback OpenAI-compatible
embeddings server through the openai SDK, and the vector store (ai/vectors.py) for real on the
test database (SQLite or PostgreSQL: DATABASE_URL), insert -> query -> delete, with
metadata filters, dimension checks and project scoping; a RAG chain end to end."""

import json

import pytest
from django.db import connection

from accounts.models import Project
from ai.vectors import ProjectVectors, backend
from nodes.types.text_splitter import split
from runs.models import ModelCall
from tests.factories import make_workflow, run_now, simple_definition
from tests.llm_servers import AgentServer, letters_vector
from workflows.validation import validate_definition

KEY = "sk-embed-secret-42"


# -- text splitter --------------------------------------------------------------------------
def test_split_respects_size_and_overlap_and_prefers_paragraphs():
    text = "First paragraph here.\n\nSecond one is a bit longer than that.\n\nThird."
    chunks = split(text, 40, 0, ["\n\n", "\n", ". ", " ", ""])
    assert chunks == ["First paragraph here.", "Second one is a bit longer than that.",
                      "Third."]
    words = " ".join(f"w{i}" for i in range(100))
    chunks = split(words, 30, 10, [" ", ""])
    assert all(len(c) <= 30 for c in chunks)
    for a, b in zip(chunks, chunks[1:], strict=False):  # neighbours share words
        assert a.split()[-1] in b.split()
    assert " ".join(dict.fromkeys(w for c in chunks for w in c.split())) == words
    assert split("x" * 25, 10, 0, [" "]) == ["x" * 10, "x" * 10, "x" * 5]


def test_splitter_bad_config_is_refused():
    problems = validate_definition(simple_definition({
        "id": "s", "type": "text_splitter", "config": {"chunk_size": 100,
                                                        "chunk_overlap": 100}}))
    assert any("chunk_overlap must be smaller" in p["message"] for p in problems)


# -- the vector store -----------------------------------------------------------------------
@pytest.fixture
def projects(user, other_user):
    return (Project.objects.get(personal_owner=user),
            Project.objects.get(personal_owner=other_user))


@pytest.mark.django_db
def test_vector_store_insert_query_filter_delete(projects):
    mine, theirs = projects
    store = ProjectVectors(mine.pk)
    docs = {"cats": "cats purr and sleep", "dogs": "dogs bark loudly",
            "tax": "income tax returns", "catnip": "cats love catnip"}
    ids = store.insert("docs", [{"id": k, "vector": letters_vector(v), "text": v,
                                 "metadata": {"lang": "en" if k != "catnip" else "fr"}}
                                for k, v in docs.items()])
    assert ids == list(docs)
    found = store.query("docs", letters_vector("cats purr and sleep"), top_k=2)
    assert found[0]["id"] == "cats"
    assert found[0]["score"] == pytest.approx(1.0, abs=1e-5)
    assert len(found) == 2
    assert found[0]["score"] >= found[1]["score"]
    assert found[0]["text"] == docs["cats"]
    assert found[0]["metadata"] == {"lang": "en"}
    french = store.query("docs", letters_vector("cats"), top_k=5, where={"lang": "fr"})
    assert [m["id"] for m in french] == ["catnip"]
    # another project sees nothing, and cannot delete
    assert ProjectVectors(theirs.pk).query("docs", letters_vector("cats")) == []
    assert ProjectVectors(theirs.pk).delete("docs") == 0
    # insert with a known id replaces
    store.insert("docs", [{"id": "tax", "vector": letters_vector("zzz"), "text": "new"}])
    assert store.query("docs", letters_vector("zzz"), top_k=1)[0]["text"] == "new"
    assert store.delete("docs", ids=["dogs"]) == 1
    assert store.delete("docs", where={"lang": "fr"}) == 1
    assert sorted(m["id"] for m in store.query("docs", letters_vector("a"), top_k=10)) == [
        "cats", "tax"]
    assert store.delete("docs") == 2


@pytest.mark.django_db
@pytest.mark.parametrize(("call", "reason"), [
    (lambda s: s.insert("d", [{"vector": [1.0, 0.0, 0.0]}]), "has 3 dimensions"),
    (lambda s: s.query("d", [1.0, 0.0, 0.0]), "the query has 3 dimensions"),
    (lambda s: s.insert("d", [{"vector": ["a"]}]), "numbers only"),
    (lambda s: s.insert("d", [{"vector": [float("nan"), 1.0]}]), "NaN"),
    (lambda s: s.insert("d", [{"vector": []}]), "non-empty list"),
    (lambda s: s.query("bad name!", [1.0, 0.0]), "collection name"),
    (lambda s: s.query("d", [1.0, 0.0], where={"a;drop": 1}), "metadata filter"),
])
def test_vector_store_refuses_bad_input(projects, call, reason):
    from nodes.base import NodeError

    store = ProjectVectors(projects[0].pk)
    store.insert("d", [{"id": "x", "vector": [0.5, 0.5]}])
    with pytest.raises(NodeError, match=reason):
        call(store)


@pytest.mark.django_db
def test_backend_is_chosen_by_the_database():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'")
            installed = cursor.fetchone() is not None
        assert backend() == ("pgvector" if installed else "exact")
    else:
        loadable = hasattr(connection.connection, "enable_load_extension")
        assert backend() == ("sqlite-vec" if loadable else "exact")


# -- the nodes, end to end ------------------------------------------------------------------
@pytest.fixture
def server():
    s = AgentServer(api_key=KEY).start()
    yield s
    s.stop()


def embed(server, node_id="embed", **config):
    return {"id": node_id, "type": "embeddings", "config": {
        "base_url": server.url + "/v1", "api_key": KEY, "model": "emb", **config}}


@pytest.mark.django_db
def test_embeddings_node_batches_and_records_usage(server, user):
    wf = make_workflow(owner=user, definition=simple_definition(embed(
        server, input="{{ input.docs }}", batch_size=2)))
    run = run_now(wf, input={"docs": [{"text": "one two", "name": "a"}, "three",
                                      {"text": "four five six", "name": "c"}]})
    assert run.status == "succeeded", run.error
    items = run.result["items"]
    assert [i["text"] for i in items] == ["one two", "three", "four five six"]
    assert items[0]["name"] == "a"
    assert items[0]["vector"] == pytest.approx(
        letters_vector("one two"))
    assert run.result["dimensions"] == 8
    assert server.count("/v1/embeddings") == 2
    assert server.embedded == ["one two", "three", "four five six"]
    assert sum(c.prompt_tokens for c in ModelCall.objects.filter(run=run)) == 6
    assert run.result["usage"]["prompt_tokens"] == 6


@pytest.mark.django_db
def test_embeddings_errors_name_no_secret(server, user):
    wf = make_workflow(owner=user, definition=simple_definition(embed(
        server, api_key="sk-wrong-0000", input="hello")))
    run = run_now(wf)
    assert run.status == "failed"
    assert run.error_node_id == "embed"
    assert "401" in run.error
    assert "sk-wrong-0000" not in run.error
    server.fail(500, "the embedder fell over")
    run = run_now(make_workflow(owner=user, definition=simple_definition(embed(
        server, input="x"))))
    assert "the embeddings API answered 500: the embedder fell over" in run.error
    run = run_now(make_workflow(owner=user, definition=simple_definition(embed(
        server, input=[{"text": ""}]))))
    assert "input[0]: 'text' must be a non-empty text" in run.error


@pytest.mark.django_db
def test_ingest_then_answer_with_sources(server, user):
    """The RAG chain: split -> embed -> store, then embed the question -> query -> llm."""
    ingest = make_workflow(owner=user, definition=simple_definition(
        {"id": "split", "type": "text_splitter", "config": {
            "input": "{{ input.files }}", "chunk_size": 40, "chunk_overlap": 0}},
        embed(server, input="{{ input.chunks }}"),
        {"id": "store", "type": "vector_store", "config": {
            "operation": "insert", "collection": "kb", "items": "{{ input.items }}"}}))
    run = run_now(ingest, input={"files": [
        {"text": "Cats purr when happy.\n\nDogs bark at strangers.", "name": "pets.md"},
        {"text": "Taxes are due in April.", "name": "tax.md"}]})
    assert run.status == "succeeded", run.error
    assert run.result["count"] == 3
    ask = make_workflow(owner=user, definition=simple_definition(
        embed(server, "q", input="{{ input.question }}"),
        {"id": "find", "type": "vector_store", "config": {
            "operation": "query", "collection": "kb", "top_k": 1,
            "vector": "{{ input.items[0].vector }}"}},
        {"id": "answer", "type": "llm", "config": {
            "base_url": server.url + "/v1", "api_key": KEY, "model": "m", "stream": False,
            "prompt": "Context: {{ input.matches[0].text }} ({{ input.matches[0].metadata.name"
                      " }})\nQuestion: {{ trigger.question }}"}}))
    run = run_now(ask, input={"question": "Cats purr when happy?"})
    assert run.status == "succeeded", run.error
    match = run.logs.get(node_id="find").output["matches"][0]
    assert match["text"] == "Cats purr when happy."
    assert match["metadata"]["name"] == "pets.md"
    assert "(pets.md)" in json.loads(server.requests[-1].body)["messages"][-1]["content"]


@pytest.mark.django_db
def test_vector_store_node_bad_input_fails_with_reason(user):
    run = run_now(make_workflow(owner=user, definition=simple_definition(
        {"id": "vs", "type": "vector_store", "config": {
            "operation": "insert", "collection": "kb", "items": "{{ input }}"}})),
        input=[1, 2])
    assert run.status == "failed"
    assert run.error_node_id == "vs"
    assert "items[0] must be an object with a vector" in run.error
