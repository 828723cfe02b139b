"""The run viewer's graph geometry (runs/run_graph.py)."""

from types import SimpleNamespace

from runs.run_graph import NODE_WIDTH, run_graph


def log(node_id, status):
    return SimpleNamespace(node_id=node_id, status=status)


def test_positions_from_the_editor_and_status_from_the_last_log():
    definition = {"nodes": [{"id": "a", "type": "webhook", "position": {"x": 100, "y": 50}},
                            {"id": "b", "type": "http", "position": {"x": 400, "y": 50}}],
                  "edges": [{"from": "a", "to": "b"}]}
    graph = run_graph(definition, [log("a", "succeeded"), log("b", "failed"),
                                   log("b", "succeeded")])
    a, b = graph["nodes"]
    assert (a["x"], a["y"]) == (20, 20)  # shifted to the margin
    assert b["x"] - a["x"] == 300
    assert b["status"] == "succeeded"  # the retry's log wins
    assert graph["edges"][0]["path"].startswith(f"M{20 + NODE_WIDTH:.1f},")
    assert graph["edges"][0]["taken"] is True


def test_layers_when_positions_are_missing_and_bad_input_is_ignored():
    definition = {"nodes": [{"id": "a"}, {"id": "b"}, {"id": "c", "position": "x"},
                            {"no": "id"}, "junk"],
                  "edges": [{"from": "a", "to": "b"}, {"from": "a", "to": "c"},
                            {"from": "a", "to": "ghost"}, "junk"]}
    graph = run_graph(definition, [log("a", "succeeded")])
    by_id = {n["id"]: n for n in graph["nodes"]}
    assert set(by_id) == {"a", "b", "c"}
    assert by_id["b"]["x"] == by_id["c"]["x"] > by_id["a"]["x"]
    assert by_id["b"]["y"] != by_id["c"]["y"]
    assert by_id["b"]["status"] == "not-run"
    assert len(graph["edges"]) == 2
    assert all(not e["taken"] for e in graph["edges"])


def test_empty_definition():
    assert run_graph({}, [])["nodes"] == []
    assert run_graph(None, [])["nodes"] == []
