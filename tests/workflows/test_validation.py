import pytest

from tests.factories import simple_definition
from workflows.validation import validate_definition


def paths(definition):
    return {e["path"]: e["message"] for e in validate_definition(definition)}


def test_valid_definition_has_no_errors():
    d = simple_definition({"id": "t", "type": "transform", "config": {"expression": "input"}})
    assert validate_definition(d) == []


@pytest.mark.parametrize("bad", [None, [], "x", 3])
def test_definition_must_be_an_object(bad):
    assert paths(bad) == {"": "the definition must be a JSON object with nodes and edges"}


def test_nodes_and_edges_must_be_lists():
    assert "nodes" in paths({"nodes": {}, "edges": []})
    assert "edges" in paths({"nodes": [{"id": "a", "type": "webhook"}], "edges": {}})


def test_duplicate_node_ids():
    d = simple_definition({"id": "trigger", "type": "transform", "config": {"expression": "1"}},
                          edges=[])
    assert "duplicate node id 'trigger'" in paths(d)["nodes[1].id"]


def test_node_id_must_be_a_string():
    d = simple_definition({"id": "", "type": "transform", "config": {"expression": "1"}}, edges=[])
    assert paths(d)["nodes[1].id"] == "must be a non-empty string"


def test_unknown_node_type():
    d = simple_definition({"id": "x", "type": "teleport", "config": {}})
    assert "unknown node type 'teleport'" in paths(d)["nodes[1].type"]


def test_edges_must_name_existing_nodes():
    d = simple_definition(edges=[{"from": "trigger", "to": "ghost"}])
    assert paths(d)["edges[0].to"] == "no node with id 'ghost'"


def test_edge_port_must_exist_on_source():
    d = simple_definition({"id": "t", "type": "transform", "config": {"expression": "1"}},
                          edges=[{"from": "trigger", "to": "t", "port": "nope"}])
    assert "has no output 'nope'" in paths(d)["edges[0].port"]


def test_cycle_names_its_nodes():
    d = simple_definition(
        {"id": "a", "type": "transform", "config": {"expression": "1"}},
        {"id": "b", "type": "transform", "config": {"expression": "1"}},
        {"id": "c", "type": "transform", "config": {"expression": "1"}},
        edges=[{"from": "trigger", "to": "a"}, {"from": "a", "to": "b"},
               {"from": "b", "to": "c"}, {"from": "c", "to": "a"}],
    )
    message = paths(d)["edges"]
    assert message.startswith("the graph has a cycle: ")
    assert set(message.split(": ")[1].split(" -> ")) == {"a", "b", "c"}


def test_self_loop_is_a_cycle():
    d = simple_definition({"id": "a", "type": "transform", "config": {"expression": "1"}},
                          edges=[{"from": "trigger", "to": "a"}, {"from": "a", "to": "a"}])
    assert "cycle: a -> a" in paths(d)["edges[1]"]


def test_needs_a_trigger():
    d = {"nodes": [{"id": "t", "type": "transform", "config": {"expression": "1"}}], "edges": []}
    assert "needs a trigger node" in paths(d)["nodes"]


def test_trigger_takes_no_inputs():
    d = {"nodes": [{"id": "a", "type": "webhook"}, {"id": "b", "type": "webhook"}],
         "edges": [{"from": "a", "to": "b"}]}
    assert "trigger node and takes no inputs" in paths(d)["edges[0].to"]


def test_config_checked_against_schema_with_field_path():
    d = simple_definition({"id": "h", "type": "http", "config": {"url": "ftp://x"}})
    assert paths(d) == {"nodes[1].config.url": "not a valid URL (http:// or https:// with a host)"}


def test_config_missing_required_field_and_unknown_field():
    d = simple_definition({"id": "h", "type": "http", "config": {"urll": "http://x"}})
    errs = paths(d)
    assert errs["nodes[1].config.url"] == "Field required"
    assert "nodes[1].config.urll" in errs


def test_config_templates_allowed_in_url():
    d = simple_definition({"id": "h", "type": "http", "config": {"url": "{{ input.url }}"}})
    assert validate_definition(d) == []


def test_config_type_errors():
    d = simple_definition({"id": "h", "type": "http",
                           "config": {"url": "http://x", "method": "FETCH", "timeout": -1}})
    errs = paths(d)
    assert set(errs) == {"nodes[1].config.method", "nodes[1].config.timeout"}


def email(**config):
    return simple_definition({"id": "mail", "type": "email", "config": {
        "credential": "mailer", "to": "a@example.com", "subject": "s", **config}})


def test_a_whole_template_may_stand_for_a_list_or_object_field():
    # The engine renders one whole {{ }} to the raw value and validates the rendered config.
    assert validate_definition(email(attachments="{{ nodes.report.file }}")) == []
    assert validate_definition(email(attachments=["{{ nodes.a.file }}"], timeout="{{ 5 }}")) == []


def test_templates_excuse_no_other_error():
    errs = paths(email(attachments=["{{ nodes.a.file }}", 5]))
    assert list(errs) == ["nodes[1].config.attachments.list[dict[str,any]][1]"]
    assert "nodes[1].config.attachments.dict[str,any]" in paths(email(attachments="a {{ x }}"))
    assert "nodes[1].config.attachments.dict[str,any]" in paths(email(attachments="plain"))
    assert paths(email(bogus="{{ x }}")) == {"nodes[1].config.bogus":
                                             "Extra inputs are not permitted"}
    definition = email(attachments="{{ x }}")
    del definition["nodes"][1]["config"]["subject"]
    assert paths(definition) == {"nodes[1].config.subject": "Field required"}


def test_transform_needs_expression_or_mapping():
    d = simple_definition({"id": "t", "type": "transform", "config": {}})
    assert paths(d) == {"nodes[1].config": "give an expression or a mapping"}


def test_position_must_be_numeric():
    d = simple_definition({"id": "t", "type": "transform", "config": {"expression": "1"},
                           "position": {"x": "a"}})
    assert "nodes[1].position" in paths(d)


def test_empty_definition():
    assert "nodes" in paths({"nodes": [], "edges": []})
